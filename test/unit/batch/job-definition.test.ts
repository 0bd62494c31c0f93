import { describe, expect, it } from "vitest";
import {
  buildJobDefinition,
  FETCH_CONTAINER,
  FETCH_MEMORY_MIB,
  MAIN_CONTAINER,
} from "#lib/batch/job-definition.js";
import { submitInputFor } from "#lib/batch/submit-input.js";
import { loadConfigFile } from "#lib/config/load.js";
import { buildRuntimeConfig } from "#lib/config/runtime.js";
import { effectiveSpec } from "#lib/domain/effective-spec.js";
import type { GroupRecord } from "#lib/store/job-store.js";

type Requirement = { type: string; value: string };

/**
 * What ECS reserves on a host for the job's task: per resource, the sum over its containers of the
 * requirement after the submission's overrides (an override replaces a container's requirements).
 */
function taskReservation(
  definition: ReturnType<typeof buildJobDefinition>,
  overrides: { name?: string; resourceRequirements?: Requirement[] }[],
) {
  const total = { VCPU: 0, MEMORY: 0, GPU: 0 };
  for (const container of definition.ecsProperties.taskProperties[0]!.containers) {
    const override = overrides.find((candidate) => candidate.name === container.name)?.resourceRequirements;
    for (const { type, value } of override ?? (container.resourceRequirements as Requirement[]))
      total[type as keyof typeof total] += Number(value);
  }
  return total;
}

describe("the job definition's two containers on one instance", () => {
  const config = loadConfigFile("radixconfig.yaml");
  const runtime = buildRuntimeConfig(config);
  const component = runtime.components[0]!;
  const definition = buildJobDefinition({
    name: component.jobDefinition,
    image: "repo/compute:1.0.0",
    payloadPath: "/compute/args",
    fetchImage: config.aws.payloadFetchImage,
    vcpus: 1,
    memoryMiB: 512,
  });

  it("fetch-payload reserves memory but no vCPU; the main container carries the job's vCPUs", () => {
    const [fetch, main] = definition.ecsProperties.taskProperties[0]!.containers;
    expect(fetch!.name).toBe(FETCH_CONTAINER);
    expect(fetch!.resourceRequirements).toEqual([{ type: "MEMORY", value: String(FETCH_MEMORY_MIB) }]);
    expect(main!.name).toBe(MAIN_CONTAINER);
    expect(main!.resourceRequirements.map((requirement) => requirement.type)).toEqual(["VCPU", "MEMORY"]);
  });

  it("a job asking for a g5.xlarge's 4 vCPUs and 1 GPU reserves 4 vCPUs and 1 GPU, so one g5.xlarge takes it", () => {
    // g5.xlarge: 4 vCPUs, 16 GiB, 1 NVIDIA A10G.
    const g5xlarge = { VCPU: 4, MEMORY: 16 * 1024, GPU: 1 };
    const spec = effectiveSpec(component, runtime, undefined, {
      node: { gpu: "nvidia-a10g", gpuCount: 1 },
      resources: { limits: { cpu: "4", memory: "14Gi" } },
    });
    expect(spec).toMatchObject({ vcpus: 4, gpuCount: 1, queueKey: "g5" });
    const group: GroupRecord = {
      batchName: "batch-compute-20261201000000-abcdefgh",
      index: 0,
      offset: 0,
      size: 2,
      spec,
      state: "pending",
      run: 1,
    };
    const input = submitInputFor(group, {
      component,
      queue: "sample-g5",
      jobDefinition: `${component.jobDefinition}:1`,
      bucket: "sample-payloads",
      payloadKey: "payloads/batch-compute-20261201000000-abcdefgh",
    });
    const reserved = taskReservation(
      definition,
      input.ecsPropertiesOverride!.taskProperties![0]!.containers as {
        name?: string;
        resourceRequirements?: Requirement[];
      }[],
    );
    expect(reserved).toEqual({ VCPU: 4, MEMORY: 14 * 1024 + FETCH_MEMORY_MIB, GPU: 1 });
    expect(reserved.VCPU).toBeLessThanOrEqual(g5xlarge.VCPU);
    expect(reserved.GPU).toBeLessThanOrEqual(g5xlarge.GPU);
    // What a 16 GiB host registers is less than 16 GiB (memory-management.html); 14 GiB + 128 MiB leaves room.
    expect(reserved.MEMORY).toBeLessThan(g5xlarge.MEMORY * 0.95);
  });
});
