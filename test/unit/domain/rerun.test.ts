import { describe, expect, it } from "vitest";
import { type JobEntry, newEntry, type Observation } from "#lib/domain/job-state.js";
import {
  canReprioritize,
  isRepriorityCancel,
  requestPriority,
  restartEntry,
  restartRefusal,
  resubmitWithPriority,
} from "#lib/domain/rerun.js";
import { nextRunAttempts } from "#lib/domain/retry.js";
import { REPRIORITIZE_REASON } from "#lib/domain/status.js";

const failed: JobEntry = {
  ...newEntry("j"),
  v: 4,
  status: "Failed",
  progress: 99,
  run: 1,
  ended: 10,
  exitCode: 1,
  message: "exit code 1",
  attempts: [
    { start: 1, end: 2, exitCode: 1, kind: "user", run: 1 },
    { start: 3, end: 4, exitCode: 1, kind: "user", run: 1 },
  ],
};

describe("restart", () => {
  it("starts a new run of the same job with its history, a fresh retry budget and deadline", () => {
    const next = restartEntry(failed, 1000);
    expect(next).toMatchObject({ status: "Waiting", run: 2, budgetFromRun: 2, since: 1000, restarted: 1000 });
    expect(next.attempts).toHaveLength(2);
    expect(next.exitCode).toBeUndefined();
    expect(next.ended).toBeUndefined();
    expect(next.v).toBe(failed.v + 1);
    expect(next.progress).toBeGreaterThan(failed.progress);
    // backoffLimit 1 was spent by run 1; after the restart it is whole again.
    expect(nextRunAttempts(failed, { backoffLimit: 1 })).toBeUndefined();
    expect(nextRunAttempts(next, { backoffLimit: 1 })).toBe(2);
  });

  it("is refused while the job has not ended", () => {
    expect(restartRefusal({ ...failed, status: "Running" })).toContain("has not ended");
    expect(restartRefusal(failed)).toBeUndefined();
  });
});

describe("priority change", () => {
  const waiting: JobEntry = { ...newEntry(), v: 2, batchStatus: "RUNNABLE", batchJobId: "b-1" };
  const cancelled: Observation = {
    run: 1,
    batchJobId: "b-1",
    batchStatus: "FAILED",
    statusReason: `${REPRIORITIZE_REASON} (priority 7)`,
    attempts: [],
  };

  it("reaches only a job that waits with no attempt of its run started", () => {
    expect(canReprioritize(waiting)).toBe(true);
    expect(canReprioritize({ ...waiting, attempts: [{ start: 1, run: 1 }] })).toBe(false);
    expect(canReprioritize({ ...waiting, status: "Running" })).toBe(false);
  });

  it("turns the cancelled job's FAILED event into a new run with the new priority, never a failure", () => {
    const asked = requestPriority(waiting, 7, 50)!;
    expect(isRepriorityCancel(asked, cancelled)).toBe(true);
    expect(isRepriorityCancel(waiting, cancelled)).toBe(false); // no change was asked
    expect(isRepriorityCancel(asked, { ...cancelled, attempts: [{ exitCode: 1 }] })).toBe(false);
    expect(isRepriorityCancel(asked, { ...cancelled, statusReason: "Stopped by user" })).toBe(false);
    const again = resubmitWithPriority(asked, 60);
    expect(again).toMatchObject({ status: "Waiting", run: 2, priority: 7, resubmitRequested: 60 });
    expect(again.repriorityRequested).toBeUndefined();
  });
});
