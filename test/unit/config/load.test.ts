import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile, parseConfig } from "#lib/config/load.js";
import { buildRuntimeConfig, bundledRuntimeConfig, runtimeConfigFromEnv } from "#lib/config/runtime.js";
import { instanceArchitecture } from "#lib/config/schema.js";

const write = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), "config-")), "radixconfig.yaml");
  writeFileSync(file, text);
  return file;
};

const minimal = { metadata: { name: "app" }, spec: { jobs: [{ name: "compute", schedulerPort: 8000 }] } };
const g5 = { family: "g5", gpuTypes: ["nvidia-a10g"], instanceTypes: ["g5.xlarge"], maxGpusPerInstance: 1 };

describe("configuration file", () => {
  it("loads the sample, with Radix's defaults filled in", () => {
    const config = loadConfigFile("radixconfig.yaml");
    const compute = config.spec.jobs[0]!;
    expect(compute).toMatchObject({
      name: "compute",
      schedulerPort: 8000,
      payload: { path: "/compute/args" },
    });
    expect(compute.retention).toEqual({ succeeded: 10, failed: 10, maxAgeDays: 30 });
    expect(config.aws.gpuFamilies.map((family) => family.family)).toEqual(["g5", "g6", "p4d", "g4dn"]);
    // The older forms: `cpu` as one object, `spot: true` on a family.
    expect(config.aws.cpu).toEqual([
      {
        name: "cpu",
        instanceTypes: ["c7i", "m7i"],
        maxvCpus: 256,
        architecture: "amd64",
        capacity: "onDemand",
      },
    ]);
    expect(config.aws.gpuFamilies.map((family) => family.capacity)).toEqual([
      "spot",
      "onDemand",
      "onDemand",
      "onDemand",
    ]);
    expect(config.projects).toEqual([]);
  });

  it("reads CPU computes as a list, with architecture and capacity resolved, and projects", () => {
    const config = parseConfig({
      ...minimal,
      aws: {
        cpu: [
          { instanceTypes: ["c7i"], capacity: "both" },
          { instanceTypes: ["c7g", "m7g.large"], maxvCpus: 64 },
          { name: "graviton-spot", architecture: "arm64", spot: true },
        ],
        gpuFamilies: [
          { family: "g5g", gpuTypes: ["nvidia-t4g"], instanceTypes: ["g5g"], maxGpusPerInstance: 2 },
        ],
      },
      projects: [{ name: "team-a", weight: 3 }, { name: "team-b" }],
    });
    expect(config.aws.cpu).toEqual([
      { name: "cpu", instanceTypes: ["c7i"], maxvCpus: 256, architecture: "amd64", capacity: "both" },
      {
        name: "cpu-arm64",
        instanceTypes: ["c7g", "m7g.large"],
        maxvCpus: 64,
        architecture: "arm64",
        capacity: "onDemand",
      },
      {
        name: "graviton-spot",
        instanceTypes: ["default_arm64"],
        maxvCpus: 256,
        architecture: "arm64",
        capacity: "spot",
      },
    ]);
    expect(config.aws.gpuFamilies[0]).toMatchObject({
      name: "g5g",
      architecture: "arm64",
      capacity: "onDemand",
    });
    expect(config.projects).toEqual([
      { name: "team-a", weight: 3 },
      { name: "team-b", weight: 1 },
    ]);
    const runtime = buildRuntimeConfig(config);
    expect(runtime.queues.map((queue) => queue.key)).toEqual([
      "cpu",
      "cpu-spot",
      "cpu-arm64",
      "graviton-spot",
      "g5g",
    ]);
    expect(runtime.projects).toEqual(config.projects);
  });

  it("knows Graviton instance types and Batch's keywords", () => {
    for (const arm of [
      "c7g",
      "c7gn.large",
      "m7gd.xlarge",
      "r8g",
      "t4g.micro",
      "x2gd",
      "im4gn",
      "is4gen",
      "hpc7g",
      "g5g.xlarge",
      "a1.large",
      "default_arm64",
    ])
      expect(instanceArchitecture(arm), arm).toBe("arm64");
    for (const x86 of [
      "c7i",
      "m7a.large",
      "g4dn.xlarge",
      "g5",
      "g6e.xlarge",
      "p4d.24xlarge",
      "inf2",
      "trn1",
      "optimal",
      "default_x86_64",
    ])
      expect(instanceArchitecture(x86), x86).toBe("amd64");
  });

  it("the bundled settings and TABLE_NAME/BUCKET_NAME read back as the runtime settings", () => {
    const runtime = buildRuntimeConfig(loadConfigFile("radixconfig.yaml"));
    const bundled = bundledRuntimeConfig(loadConfigFile("radixconfig.yaml"));
    expect(bundled).not.toContain(runtime.tableName);
    const env = { TABLE_NAME: runtime.tableName, BUCKET_NAME: runtime.bucketName };
    expect(runtimeConfigFromEnv(env, bundled)).toEqual(runtime);
  });

  it("a function without bundled settings or without TABLE_NAME fails at cold start, saying which", () => {
    const bundled = bundledRuntimeConfig(loadConfigFile("radixconfig.yaml"));
    expect(() => runtimeConfigFromEnv({ TABLE_NAME: "t", BUCKET_NAME: "b" }, undefined)).toThrow(
      /no bundled deployment settings/,
    );
    expect(() => runtimeConfigFromEnv({ BUCKET_NAME: "b" }, bundled)).toThrow("TABLE_NAME not set");
    expect(() => runtimeConfigFromEnv({ TABLE_NAME: "t", BUCKET_NAME: "b" }, '{"app":"x"}')).toThrow(
      /settings are invalid: queues/,
    );
  });

  it.each([
    [
      { aws: { cpu: { instanceTypes: ["c7g", "c7i"] } } },
      "aws.cpu.0.instanceTypes: mixes arm64 (c7g) and amd64",
    ],
    [
      { aws: { cpu: { architecture: "arm64", instanceTypes: ["c7g", "optimal"] } } },
      "aws.cpu.0.instanceTypes: optimal is not arm64",
    ],
    [{ aws: { cpu: { spot: true, capacity: "both" } } }, "aws.cpu.0.spot: set capacity"],
    [{ aws: { cpu: { capacity: "sometimes" } } }, "aws.cpu.0.capacity"],
    [{ aws: { cpu: [] } }, "aws.cpu"],
    [{ aws: { cpu: [{}, { instanceTypes: ["m7i"] }] } }, "two job queues would be named 'cpu'"],
    [
      { aws: { cpu: [{ capacity: "both" }, { name: "cpu-spot" }] } },
      "two job queues would be named 'cpu-spot'",
    ],
    [
      { aws: { gpuFamilies: [g5, { ...g5, instanceTypes: ["g5.48xlarge"] }] } },
      "two job queues would be named 'g5'",
    ],
    [{ projects: [{ name: "Team A" }] }, "projects.0.name"],
    [{ projects: [{ name: "a-b", weight: 0 }] }, "projects.0.weight"],
    [{ projects: [{ name: "x" }, { name: "x" }] }, "projects.1.name: 'x' is used twice"],
    [{ projects: [{ name: "compute" }] }, "projects.0.name: 'compute' is also a job component"],
    [{ projects: [{ name: "big", weight: 1000 }] }, "projects: the largest weight is more than 999 times"],
    [{ projects: [{ name: "small", weight: 0.001 }] }, "projects: the largest weight is more than 999 times"],
  ])("refuses computes and projects it cannot deploy (%#)", (edit, message) => {
    expect(() => parseConfig({ ...minimal, ...edit })).toThrow(ConfigError);
    expect(() => parseConfig({ ...minimal, ...edit })).toThrow(message);
  });

  it.each([
    [
      "metadata: {name: app}\nspec: {jobs: [{name: compute, schedulerPort: eighty}]}",
      "spec.jobs.0.schedulerPort",
    ],
    ["metadata: {name: app}\nspec: {jobs: [{name: Compute, schedulerPort: 8000}]}", "spec.jobs.0.name"],
    ["metadata: {name: app}\nspec: {jobs: []}", "spec.jobs"],
    [
      "metadata: {name: app}\nspec: {jobs: [{name: a, schedulerPort: 1, payload: {path: relative}}]}",
      "spec.jobs.0.payload.path",
    ],
    [
      "metadata: {name: app}\nspec: {jobs: [{name: a, schedulerPort: 1}, {name: a, schedulerPort: 2}]}",
      "spec.jobs.1.name",
    ],
    [
      "metadata: {name: app}\nspec: {jobs: [{name: a, schedulerPort: 1}]}\naws: {gpuFamilies: [{family: g5}]}",
      "aws.gpuFamilies.0.gpuTypes",
    ],
    [
      "metadata: {name: app}\nspec: {jobs: [{name: a, schedulerPort: 1, variables: {AWS_BATCH_JOB_ID: x}}]}",
      "spec.jobs.0.variables.AWS_BATCH_JOB_ID: invalid name: names starting with AWS_BATCH are reserved",
    ],
    ["spec: [", "not valid YAML"],
  ])("refuses an invalid file, naming the field (%#)", (text, field) => {
    const file = write(text);
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    expect(() => loadConfigFile(file)).toThrow(field);
  });
});
