import { describe, expect, it } from "vitest";
import {
  type Dependency,
  dependencyWaitReason,
  dependentsOfJob,
  heldByDependencies,
  judge,
  meets,
  outcomeOf,
} from "#lib/domain/dependencies.js";
import { jobName } from "#lib/domain/names.js";

const A = "batch-compute-20260301101417-aaaaaaaa";
const whole: Dependency = { name: A, batchName: A, condition: "succeeded" };

describe("dependency conditions", () => {
  it.each([
    ["succeeded", "succeeded", true],
    ["succeeded", "failed", false],
    ["failed", "failed", true],
    ["failed", "succeeded", false],
    ["ended", "succeeded", true],
    ["ended", "failed", true],
    ["ended", "stopped", false],
    ["succeeded", "stopped", false],
    ["failed", "deleted", false],
    ["ended", "deleted", false],
  ] as const)("%s is met by %s: %s", (condition, outcome, met) => {
    expect(meets(condition, outcome)).toBe(met);
  });

  it("a final status is an outcome; DeadlineExceeded and rule-made statuses count as failed", () => {
    expect(outcomeOf("Succeeded", true)).toBe("succeeded");
    expect(outcomeOf("Stopped", true)).toBe("stopped");
    expect(outcomeOf("DeadlineExceeded", true)).toBe("failed");
    expect(outcomeOf("Completed", true)).toBe("failed");
    expect(outcomeOf("Running", false)).toBeUndefined();
  });
});

describe("judging", () => {
  const other: Dependency = { name: "x", batchName: "x", ordinal: 3, condition: "ended" };
  it("waits while any dependency has no outcome, and is met when all are met", () => {
    expect(judge([whole, other], ["succeeded", undefined])).toEqual({ state: "waiting" });
    expect(judge([whole, other], ["succeeded", "failed"])).toEqual({ state: "met" });
    expect(judge([], [])).toEqual({ state: "met" });
  });

  it("is unmet as soon as one can never be met, even while others wait, naming it", () => {
    const judgement = judge([other, whole], [undefined, "failed"]);
    expect(judgement).toEqual({
      state: "unmet",
      message: `dependsOn: batch ${A} ended Failed, but this waited for it to succeed; never started`,
    });
  });

  it("names the partner job of an elementwise dependency", () => {
    const elementwise: Dependency = { ...whole, elementwise: true };
    const judgement = judge([elementwise], ["stopped"], 7);
    expect(judgement.state === "unmet" && judgement.message).toContain(`job ${jobName(A, 7)} (elementwise`);
  });
});

describe("marks and waiting", () => {
  it("a job's end concerns the dependents marked with its ordinal or with *", () => {
    const marks = ["b1@3", "b2@*", "b3@30", "b4"];
    expect(dependentsOfJob(marks, 3).sort()).toEqual(["b1", "b2"]);
    expect(dependentsOfJob(marks, 30).sort()).toEqual(["b2", "b3"]);
  });

  it("a job is held while it was never submitted and its dependent is neither met (or elementwise) nor stopped", () => {
    const entry = { run: 1, status: "Waiting" };
    expect(heldByDependencies({ dependsOn: [whole] }, entry)).toBe(true);
    expect(heldByDependencies({ dependsOn: [whole], dependenciesMet: 1 }, entry)).toBe(false);
    expect(
      heldByDependencies({ dependsOn: [{ ...whole, elementwise: true }], dependenciesMet: 1 }, entry),
    ).toBe(true);
    expect(heldByDependencies({ dependsOn: [whole], stopRequested: 1 }, entry)).toBe(false);
    expect(heldByDependencies({ dependsOn: [whole] }, { run: 2, status: "Waiting" })).toBe(false);
    expect(heldByDependencies({}, entry)).toBe(false);
  });

  it("says what a waiting job waits for", () => {
    const job: Dependency = { name: `${A}-bbbbbbbb`, batchName: A, ordinal: 2, condition: "failed" };
    expect(dependencyWaitReason([whole, job], false)).toBe(
      `waiting for batch ${A} to succeed and job ${A}-bbbbbbbb to fail (dependsOn)`,
    );
  });
});
