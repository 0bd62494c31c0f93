import { describe, expect, it } from "vitest";
import { loadConfigFile, parseConfig } from "#lib/config/load.js";
import { buildRuntimeConfig } from "#lib/config/runtime.js";
import { effectiveSpec, ImpossibleSpecError, specKey } from "#lib/domain/effective-spec.js";
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

/**
 * A deployment with an amd64 CPU compute with on-demand and Spot capacity, a Graviton one, a Spot-only
 * memory compute pinned to one size, GPU families with both capacities, sizes only, and arm64; projects.
 */
const multi = buildRuntimeConfig(
  parseConfig({
    metadata: { name: "multi" },
    spec: {
      jobs: [
        { name: "train", schedulerPort: 1 },
        { name: "graviton", schedulerPort: 2, runtime: { architecture: "arm64" } },
      ],
    },
    aws: {
      cpu: [
        { instanceTypes: ["c7i", "m7i"], capacity: "both" },
        { instanceTypes: ["c7g.large", "c7g.xlarge"] },
        { name: "mem", instanceTypes: ["r7i.2xlarge"], spot: true },
      ],
      gpuFamilies: [
        {
          family: "g5",
          gpuTypes: ["nvidia-a10g"],
          instanceTypes: ["g5"],
          maxGpusPerInstance: 8,
          capacity: "both",
        },
        {
          family: "g6",
          gpuTypes: ["nvidia-l4"],
          instanceTypes: ["g6.xlarge", "g6.12xlarge"],
          maxGpusPerInstance: 4,
        },
        { family: "g5g", gpuTypes: ["nvidia-t4g"], instanceTypes: ["g5g.xlarge"], maxGpusPerInstance: 1 },
      ],
    },
    projects: [{ name: "team-a", weight: 3 }, { name: "team-b" }],
  }),
);
const [train, graviton] = multi.components as [typeof component, typeof component];
const on = (...layers: Parameters<typeof effectiveSpec>[2][]) => effectiveSpec(train, multi, ...layers);
const refused = (message: string | RegExp, ...layers: Parameters<typeof effectiveSpec>[2][]) => {
  expect(() => on(...layers)).toThrow(ImpossibleSpecError);
  expect(() => on(...layers)).toThrow(message);
};

describe("queue selection", () => {
  it("makes one queue per capacity of each compute, on-demand first, with architecture and instance types", () => {
    expect(multi.queues.map(({ key, architecture, capacity }) => [key, architecture, capacity])).toEqual([
      ["cpu", "amd64", "onDemand"],
      ["cpu-spot", "amd64", "spot"],
      ["cpu-arm64", "arm64", "onDemand"],
      ["mem", "amd64", "spot"],
      ["g5", "amd64", "onDemand"],
      ["g5-spot", "amd64", "spot"],
      ["g6", "amd64", "onDemand"],
      ["g5g", "arm64", "onDemand"],
    ]);
    expect(multi.queues.find((queue) => queue.key === "cpu-arm64")?.instanceTypes).toEqual([
      "c7g.large",
      "c7g.xlarge",
    ]);
  });

  it("runs on amd64 on-demand capacity by default, as Radix does without runtime", () => {
    expect(on()).toMatchObject({ queueKey: "cpu", gpuCount: 0 });
    expect(on({ runtime: {} })).toMatchObject({ queueKey: "cpu" });
  });

  it("runtime.architecture arm64 picks the Graviton compute; the component's runtime is a default", () => {
    expect(on({ runtime: { architecture: "arm64" } })).toMatchObject({ queueKey: "cpu-arm64" });
    expect(effectiveSpec(graviton, multi)).toMatchObject({ queueKey: "cpu-arm64" });
    expect(effectiveSpec(graviton, multi, { runtime: { architecture: "amd64" } })).toMatchObject({
      queueKey: "cpu",
    });
    expect(on({ node: { gpu: "nvidia-t4g" }, runtime: { architecture: "arm64" } })).toMatchObject({
      queueKey: "g5g",
      gpuCount: 1,
    });
  });

  it("preemptible true picks the Spot queue, false the on-demand one, absent the compute's default", () => {
    expect(on({ preemptible: true })).toMatchObject({ queueKey: "cpu-spot" });
    expect(on({ preemptible: false })).toMatchObject({ queueKey: "cpu" });
    expect(on({ node: { gpu: "nvidia-a10g" }, preemptible: true })).toMatchObject({ queueKey: "g5-spot" });
    expect(on({ node: { gpu: "nvidia-a10g" } })).toMatchObject({ queueKey: "g5" });
    // The batch's defaults say Spot, the job says otherwise.
    expect(on({ preemptible: true }, { preemptible: false })).toMatchObject({ queueKey: "cpu" });
    // A Spot-only compute runs Spot unless told otherwise.
    expect(on({ runtime: { nodeType: "r7i.2xlarge" } })).toMatchObject({ queueKey: "mem" });
  });

  it("runtime.nodeType picks the compute that launches that instance type or family", () => {
    expect(on({ runtime: { nodeType: "c7g.large" } })).toMatchObject({ queueKey: "cpu-arm64" });
    expect(on({ runtime: { nodeType: "c7g" } })).toMatchObject({ queueKey: "cpu-arm64" });
    // `m7i` is configured as a family: any of its sizes.
    expect(on({ runtime: { nodeType: "m7i.4xlarge" } })).toMatchObject({ queueKey: "cpu" });
    expect(on({ runtime: { nodeType: "m7i.4xlarge" }, preemptible: true })).toMatchObject({
      queueKey: "cpu-spot",
    });
    expect(on({ runtime: { nodeType: "c7g.large", architecture: "arm64" } })).toMatchObject({
      queueKey: "cpu-arm64",
    });
  });

  it("a GPU instance type as nodeType makes a GPU job on that family", () => {
    expect(on({ runtime: { nodeType: "g6.xlarge" } })).toMatchObject({ queueKey: "g6", gpuCount: 1 });
    expect(on({ runtime: { nodeType: "g5.2xlarge" }, node: { gpuCount: "4" } })).toMatchObject({
      queueKey: "g5",
      gpuCount: 4,
    });
    expect(on({ runtime: { nodeType: "g5.2xlarge" }, preemptible: true })).toMatchObject({
      queueKey: "g5-spot",
    });
  });

  it("refuses an architecture, node type or capacity no queue offers, saying what is offered", () => {
    refused(
      "runtime.nodeType 'c6i.large' matches no configured instance type (offered: c7i, m7i, c7g.large, c7g.xlarge, r7i.2xlarge, g5, g6.xlarge, g6.12xlarge, g5g.xlarge)",
      { runtime: { nodeType: "c6i.large" } },
    );
    // g6 is configured as two sizes, so another size is never launched.
    refused("runtime.nodeType 'g6.2xlarge' matches no configured instance type", {
      runtime: { nodeType: "g6.2xlarge" },
    });
    refused("runtime.architecture 'amd64' does not match runtime.nodeType 'c7g.large' (arm64)", {
      runtime: { nodeType: "c7g.large", architecture: "amd64" },
    });
    refused("runtime.nodeType 'c7i.large' has no GPUs, but node.gpu or node.gpuCount asks for them", {
      runtime: { nodeType: "c7i.large" },
      node: { gpu: "nvidia-a10g" },
    });
    refused(
      "runtime.architecture 'arm64' is not offered by any configured GPU family offering node.gpu 'nvidia-a10g' (offered: amd64)",
      { node: { gpu: "nvidia-a10g" }, runtime: { architecture: "arm64" } },
    );
    // arm64 GPU family, but the job asks for Radix's default architecture.
    refused("runtime.architecture 'amd64' is not offered", { node: { gpu: "nvidia-t4g" } });
    refused("preemptible: true, but no Spot capacity is configured for cpu-arm64", {
      runtime: { architecture: "arm64" },
      preemptible: true,
    });
    refused("preemptible: true, but no Spot capacity is configured for g6", {
      node: { gpu: "nvidia-l4" },
      preemptible: true,
    });
    refused("preemptible: false, but mem has only Spot capacity", {
      runtime: { nodeType: "r7i.2xlarge" },
      preemptible: false,
    });
    refused("node.gpuCount 6 is more than any matching instance has (at most 4)", {
      node: { gpu: "nvidia-l4", gpuCount: "6" },
    });
  });

  it("refuses arm64 on the sample, which has amd64 computes only", () => {
    expect(() => spec({ runtime: { architecture: "arm64" } })).toThrow(
      "runtime.architecture 'arm64' is not offered by any configured CPU compute (offered: amd64)",
    );
    expect(() => spec({ preemptible: true })).toThrow("no Spot capacity is configured for cpu");
    // g5 is `spot: true` in the sample.
    expect(spec({ node: { gpu: "nvidia-a10g" }, preemptible: true })).toMatchObject({ queueKey: "g5" });
  });
});

describe("projects", () => {
  it("the share identifier is the project, else the job component", () => {
    expect(on().shareIdentifier).toBe("train");
    expect(on({ project: "team-a" }).shareIdentifier).toBe("team-a");
    expect(on({ project: "team-a" }, { project: "team-b" }).shareIdentifier).toBe("team-b");
    expect(on({ project: "team-a" }, {}).shareIdentifier).toBe("team-a");
  });

  it("jobs of different projects never share an array job", () => {
    expect(specKey(on({ project: "team-a" }))).not.toBe(specKey(on({ project: "team-b" })));
    expect(specKey(on({ project: "team-a" }))).toBe(specKey(on({}, { project: "team-a" })));
  });

  it("refuses a project that is not configured, naming the known ones", () => {
    refused("project 'team-c' is not configured (known: team-a, team-b)", { project: "team-c" });
  });

  it("accepts any project when none are configured (the sample)", () => {
    expect(spec({ project: "anything" }).shareIdentifier).toBe("anything");
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

  it("gives a canary's first jobs groups of their own, ahead of the rest", () => {
    const a = spec();
    const b = spec({ imageTagName: "2.0.0" });
    const groups = groupJobs([a, b, a, a, b], 2);
    expect(groups.map((group) => [group.index, group.offset, group.size, group.members])).toEqual([
      [0, 0, 1, [0]],
      [1, 1, 1, [1]],
      [2, 2, 2, [2, 3]],
      [3, 4, 1, [4]],
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
