import { describe, expect, it } from "vitest";
import { loadConfigFile } from "#lib/config/load.js";
import { buildRuntimeConfig } from "#lib/config/runtime.js";
import { effectiveSpec, ImpossibleSpecError } from "#lib/domain/effective-spec.js";
import { groupJobs, MAX_ARRAY_SIZE } from "#lib/domain/grouping.js";

const runtime = buildRuntimeConfig(loadConfigFile("radixconfig.yaml"));
const component = runtime.components[0]!;
const spec = (...layers: Parameters<typeof effectiveSpec>[2][]) =>
  effectiveSpec(component, runtime, ...layers);

describe("effective spec", () => {
  it("starts from the component's configuration", () => {
    expect(spec()).toMatchObject({
      imageTagName: "1.0.0",
      vcpus: 1,
      memoryMiB: 512,
      gpuCount: 0,
      queueKey: "cpu",
      timeLimitSeconds: 3600,
    });
  });

  it("overrides defaults field by field, the job's own fields last", () => {
    const result = spec(
      { timeLimitSeconds: 200, backoffLimit: 5, resources: { limits: { memory: "200Mi", cpu: "200m" } } },
      { timeLimitSeconds: 120, resources: { limits: { memory: "32Mi" } } },
    );
    expect(result).toMatchObject({ timeLimitSeconds: 120, backoffLimit: 5, memoryMiB: 32, vcpus: 1 });
  });

  it("maps node.gpu to the queue of a GPU family offering it, and gpuCount to the GPU requirement", () => {
    expect(spec({ node: { gpu: "nvidia-l4", gpuCount: "2" } })).toMatchObject({
      queueKey: "g6",
      gpuCount: 2,
    });
    expect(spec({ node: { gpu: "gpu1, gpu2, gpu3", gpuCount: "6" } })).toMatchObject({
      queueKey: "g5",
      gpuCount: 6,
    });
    expect(spec({ node: { gpu: "nvidia-a10g, nvidia-l4, -nvidia-a10g" } })).toMatchObject({
      queueKey: "g6",
      gpuCount: 1,
    });
  });

  it("refuses GPU requests no queue can run", () => {
    expect(() => spec({ node: { gpu: "nvidia-h100" } })).toThrow(ImpossibleSpecError);
    expect(() => spec({ node: { gpu: "nvidia-t4", gpuCount: "9" } })).toThrow(/at most 8/);
  });
});

describe("grouping into array jobs", () => {
  it("puts jobs with equal specs in one group, in order of first appearance", () => {
    const a = spec();
    const b = spec({ imageTagName: "2.0.0" });
    const groups = groupJobs([a, b, a, a, b]);
    expect(groups.map((group) => [group.offset, group.size, group.members])).toEqual([
      [0, 3, [0, 2, 3]],
      [3, 2, [1, 4]],
    ]);
  });

  it("splits a group over 10,000 into near-equal arrays", () => {
    const one = spec();
    const groups = groupJobs(Array.from({ length: 100_000 }, () => one));
    expect(groups).toHaveLength(10);
    expect(groups.every((group) => group.size === MAX_ARRAY_SIZE)).toBe(true);
    expect(groupJobs(Array.from({ length: 10_001 }, () => spec())).map((group) => group.size)).toEqual([
      5001, 5000,
    ]);
  });
});
