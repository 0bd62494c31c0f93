import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfigFile } from "#lib/config/load.js";

const write = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), "config-")), "radixconfig.yaml");
  writeFileSync(file, text);
  return file;
};

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
    ["spec: [", "not valid YAML"],
  ])("refuses an invalid file, naming the field (%#)", (text, field) => {
    const file = write(text);
    expect(() => loadConfigFile(file)).toThrow(ConfigError);
    expect(() => loadConfigFile(file)).toThrow(field);
  });
});
