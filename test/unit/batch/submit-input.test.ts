import { describe, expect, it } from "vitest";
import { largestSubmitJobBytes, submitInputFor, submitJobBytes } from "#lib/batch/submit-input.js";
import { loadConfigFile } from "#lib/config/load.js";
import { buildRuntimeConfig } from "#lib/config/runtime.js";
import { effectiveSpec } from "#lib/domain/effective-spec.js";
import { newBatchName } from "#lib/domain/names.js";
import { payloadKeyFor } from "#lib/payloads/payload-store.js";

describe("the SubmitJob request size bound", () => {
  const runtime = buildRuntimeConfig(loadConfigFile("radixconfig.yaml"));
  const component = runtime.components[0]!;
  const queue = runtime.queues[0]!.queue;
  const context = { component, queue, bucket: runtime.bucketName };

  it("is never below what a real group of the spec sends", () => {
    const spec = effectiveSpec(component, runtime, undefined, {
      command: ["python", "train.py"],
      args: ["--epochs", "10"],
      variables: { A: "x".repeat(5000) },
    });
    const bound = largestSubmitJobBytes(spec, context);
    const batchName = newBatchName(component.name, new Date());
    for (const group of [
      { index: 0, offset: 0, size: 1, run: 1 },
      { index: 3, offset: 30_000, size: 10_000, run: 1 },
      { index: 9, offset: 99_990, size: 10, run: 12 },
    ]) {
      const input = submitInputFor(
        { ...group, batchName, spec, state: "pending" },
        { ...context, jobDefinition: `${component.jobDefinition}:17`, payloadKey: payloadKeyFor(batchName) },
      );
      expect(submitJobBytes(input)).toBeLessThanOrEqual(bound);
    }
    // The bound is tight: a few hundred bytes of names and numbers, not a guess.
    expect(
      bound -
        submitJobBytes(
          submitInputFor(
            { index: 0, offset: 0, size: 1, run: 1, batchName, spec, state: "pending" },
            {
              ...context,
              jobDefinition: `${component.jobDefinition}:1`,
              payloadKey: payloadKeyFor(batchName),
            },
          ),
        ),
    ).toBeLessThan(200);
  });
});
