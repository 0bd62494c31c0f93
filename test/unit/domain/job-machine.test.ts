import { describe, expect, it } from "vitest";
import { currentBatchJobId, decide, isPastDeadline, type JobContext } from "#lib/domain/job-machine.js";
import { type JobEntry, newEntry, type Observation } from "#lib/domain/job-state.js";
import { DEADLINE_REASON, REPRIORITIZE_REASON, STOP_REASON } from "#lib/domain/status.js";

const spec = { backoffLimit: 2, timeLimitSeconds: 3600 };
const context: JobContext = { group: { spec, submittedAt: 0 }, batchCreated: 0 };
const seen = (status: string, extra: Partial<Observation> = {}): Observation => ({
  run: 1,
  batchJobId: "parent:3",
  batchStatus: status,
  attempts: [],
  ...extra,
});
const failedAttempt = { startedAt: 10, stoppedAt: 20, exitCode: 1 };

/** Applies observations one after another, as the events handler would, and returns the last entry. */
function run(entry: JobEntry, ...observations: Observation[]) {
  let current = entry;
  for (const observation of observations) {
    current = decide(current, { kind: "observe", observation }, context, 100).next ?? current;
  }
  return current;
}

describe("decide: observations", () => {
  it("moves a job forward through Batch's statuses and publishes each status change once", () => {
    const runnable = decide(newEntry(), { kind: "observe", observation: seen("RUNNABLE") }, context, 1);
    expect(runnable.next).toMatchObject({ status: "Waiting", batchStatus: "RUNNABLE" });
    expect(runnable.effects).toEqual([]);
    const running = decide(
      runnable.next!,
      { kind: "observe", observation: seen("RUNNING", { startedAt: 5 }) },
      context,
      6,
    );
    expect(running.next).toMatchObject({ status: "Running", started: 5 });
    expect(running.effects).toEqual([{ kind: "publish", previousStatus: "Waiting", status: "Running" }]);
  });

  it("ignores duplicate, late and reordered events", () => {
    const done = run(
      newEntry(),
      seen("RUNNING"),
      seen("SUCCEEDED", { attempts: [{ ...failedAttempt, exitCode: 0 }] }),
    );
    expect(done.status).toBe("Succeeded");
    for (const late of [seen("RUNNABLE"), seen("RUNNING"), seen("SUCCEEDED")]) {
      expect(decide(done, { kind: "observe", observation: late }, context, 200)).toEqual({ effects: [] });
    }
    const reordered = run(
      newEntry(),
      seen("SUCCEEDED", { attempts: [{ ...failedAttempt, exitCode: 0 }] }),
      seen("RUNNING"),
    );
    expect(reordered.status).toBe("Succeeded");
  });

  it("a failure with budget left becomes a new run to submit; without budget the job fails", () => {
    const first = decide(
      newEntry(),
      { kind: "observe", observation: seen("FAILED", { attempts: [failedAttempt] }) },
      context,
      30,
    );
    expect(first.next).toMatchObject({ status: "Waiting", run: 2, resubmitRequested: 30 });
    expect(first.effects).toContainEqual({ kind: "submitRun", run: 2, attempts: 2 });
    const spent = run(
      newEntry(),
      seen("FAILED", { attempts: [failedAttempt, failedAttempt, failedAttempt] }),
    );
    expect(spent).toMatchObject({ status: "Failed", run: 1 });
  });

  it("a failure past the deadline ends DeadlineExceeded instead of running again", () => {
    const late = decide(
      newEntry(),
      { kind: "observe", observation: seen("FAILED", { attempts: [failedAttempt] }) },
      context,
      3_600_000,
    );
    expect(late.next?.status).toBe("DeadlineExceeded");
    expect(late.effects.some((effect) => effect.kind === "submitRun")).toBe(false);
  });

  it("the deadline rule is one: reached when timeLimitSeconds have passed since the start (>=)", () => {
    expect(isPastDeadline(newEntry(), context, 3_599_999)).toBe(false);
    expect(isPastDeadline(newEntry(), context, 3_600_000)).toBe(true);
    expect(isPastDeadline({ ...newEntry(), since: 1000 }, context, 3_600_000)).toBe(false);
    expect(isPastDeadline(newEntry(), { group: { spec }, batchCreated: 500 }, 3_600_499)).toBe(false);
  });

  it("the cancellation of a priority change becomes a new run with the new priority", () => {
    const asked = { ...newEntry(), v: 1, priority: 900, repriorityRequested: 5 };
    const cancelled = seen("FAILED", { statusReason: `${REPRIORITIZE_REASON} (priority 900)` });
    const decision = decide(asked, { kind: "observe", observation: cancelled }, context, 10);
    expect(decision.next).toMatchObject({ status: "Waiting", run: 2 });
    expect(decision.effects).toContainEqual({ kind: "submitRun", run: 2, attempts: 3, priority: 900 });
  });
});

describe("decide: a stop wins over every new run", () => {
  const stopped = (entry: JobEntry, currentId?: string) => {
    const decision = decide(entry, { kind: "stop" }, { ...context, currentBatchJobId: currentId }, 50);
    return decision;
  };

  it("a job in Batch is marked and its Batch job terminated; one not in Batch ends Stopped at once", () => {
    const inBatch = stopped(newEntry(), "parent:3");
    expect(inBatch.next).toMatchObject({ stopRequested: 50, stopRun: 1, status: "Waiting" });
    expect(inBatch.effects).toEqual([{ kind: "terminate", batchJobId: "parent:3", reason: STOP_REASON }]);
    const notYet = stopped(newEntry());
    expect(notYet.next).toMatchObject({ status: "Stopped", stopRequested: 50 });
    expect(notYet.effects).toContainEqual({ kind: "publish", previousStatus: "Waiting", status: "Stopped" });
  });

  it("an ended job cannot be stopped", () => {
    const done = { ...newEntry(), status: "Succeeded" as const };
    expect(stopped(done).refusal).toContain("already ended");
  });

  it("the cancellation of a priority change after a stop ends the job Stopped, with no new run", () => {
    const asked = { ...newEntry(), v: 1, priority: 900, repriorityRequested: 5 };
    const stop = stopped(asked, "parent:3").next!;
    const cancelled = seen("FAILED", { statusReason: `${REPRIORITIZE_REASON} (priority 900)` });
    const decision = decide(stop, { kind: "observe", observation: cancelled }, context, 60);
    expect(decision.next?.status).toBe("Stopped");
    expect(decision.effects.some((effect) => effect.kind === "submitRun")).toBe(false);
  });

  it("a failure with budget left after a stop ends Stopped, with no retry", () => {
    const stop = stopped(newEntry(), "parent:3").next!;
    const decision = decide(
      stop,
      { kind: "observe", observation: seen("FAILED", { attempts: [failedAttempt] }) },
      context,
      60,
    );
    expect(decision.next).toMatchObject({ status: "Stopped", run: 1 });
    expect(decision.effects.some((effect) => effect.kind === "submitRun")).toBe(false);
  });

  it("a run whose submission raced the stop is terminated at its first event and ends Stopped even if it succeeded", () => {
    // A retry being submitted (run 2 not yet seen in Batch) when the stop came.
    const submitting = { ...newEntry(), v: 3, run: 2, resubmitRequested: 40 };
    const stop = stopped(submitting).next!;
    expect(stop).toMatchObject({ status: "Stopped", stopRun: 1 });
    const running = decide(
      stop,
      { kind: "observe", observation: seen("RUNNING", { run: 2, batchJobId: "run2" }) },
      context,
      70,
    );
    expect(running.effects).toContainEqual({ kind: "terminate", batchJobId: "run2", reason: STOP_REASON });
    const markedOnly = { ...submitting, stopRequested: 45, stopRun: 1 };
    const succeeded = decide(
      markedOnly,
      {
        kind: "observe",
        observation: seen("SUCCEEDED", {
          run: 2,
          batchJobId: "run2",
          attempts: [{ ...failedAttempt, exitCode: 0 }],
        }),
      },
      context,
      80,
    );
    expect(succeeded.next?.status).toBe("Stopped");
  });

  describe("a run the scheduler submitted itself, once SubmitJob answers", () => {
    const restarted = { ...newEntry(), v: 4, run: 2, batchJobId: "old:3", resubmitRequested: 40 };
    const submitted = (entry: JobEntry, extra: JobContext = {}) =>
      decide(entry, { kind: "submitted", run: 2, batchJobId: "run2" }, { ...context, ...extra }, 45);
    const terminate = { kind: "terminate", batchJobId: "run2", reason: STOP_REASON };

    it("is recorded on the job at once, so that a stop right after terminates it directly", () => {
      const recorded = submitted(restarted);
      expect(recorded.effects).toEqual([]);
      expect(recorded.next).toMatchObject({ v: 5, batchJobId: "run2", status: "Waiting", updated: 45 });
      expect(recorded.next?.resubmitRequested).toBeUndefined();
      const group = { state: "submitted", batchJobId: "old", offset: 0, size: 10 };
      const currentId = currentBatchJobId(group, 3, recorded.next!);
      expect(currentId).toBe("run2");
      expect(stopped(recorded.next!, currentId)).toMatchObject({
        next: { status: "Waiting", stopRequested: 50, stopRun: 2 },
        effects: [terminate],
      });
      // Its first event came before SubmitJob's answer was handled: nothing left to record.
      const seenFirst = run(restarted, seen("RUNNABLE", { run: 2, batchJobId: "run2" }));
      expect(submitted(seenFirst)).toEqual({ effects: [] });
    });

    it("a stop that came while SubmitJob was in flight ended the job at once: the run is terminated", () => {
      const stop = stopped(restarted).next!;
      expect(stop).toMatchObject({ status: "Stopped", stopRun: 1 });
      // No run is being submitted any more: the job can be restarted again.
      expect(stop.resubmitRequested).toBeUndefined();
      expect(decide(stop, { kind: "restart" }, context, 46).refusal).toBeUndefined();
      expect(submitted(stop)).toEqual({ effects: [terminate] });
      // Restarted again before this answer: the superseded run is terminated too.
      const again = decide(stop, { kind: "restart" }, context, 46).next!;
      expect(submitted(again)).toEqual({ effects: [terminate] });
    });

    it("a deadline that ended the job meanwhile terminates the run with the deadline's reason", () => {
      const late = decide(restarted, { kind: "deadline" }, context, 44).next!;
      expect(late.status).toBe("DeadlineExceeded");
      expect(submitted(late).effects).toEqual([{ ...terminate, reason: DEADLINE_REASON }]);
    });

    it("a stop of the batch recorded meanwhile marks the job and terminates the run", () => {
      const decision = submitted(restarted, { batchStopRequested: true });
      expect(decision.next).toMatchObject({ batchJobId: "run2", stopRequested: 45, stopRun: 1, v: 5 });
      expect(decision.effects).toEqual([terminate]);
    });
  });

  it("a run already in Batch at the stop keeps the end it reached first", () => {
    const stop = stopped(newEntry(), "parent:3").next!;
    const done = decide(
      stop,
      { kind: "observe", observation: seen("SUCCEEDED", { attempts: [{ ...failedAttempt, exitCode: 0 }] }) },
      context,
      60,
    );
    expect(done.next?.status).toBe("Succeeded");
  });
});

describe("decide: the scheduler's own changes", () => {
  it("a deadline terminates the Batch job (its FAILED event says why) or ends a job not in Batch", () => {
    const inBatch = decide(newEntry(), { kind: "deadline" }, { ...context, currentBatchJobId: "p:1" }, 9);
    expect(inBatch).toEqual({ effects: [{ kind: "terminate", batchJobId: "p:1", reason: DEADLINE_REASON }] });
    expect(decide(newEntry(), { kind: "deadline" }, context, 9).next?.status).toBe("DeadlineExceeded");
  });

  it("a restart of an ended job is a new run to submit; of a running one, a refusal", () => {
    const failed = { ...newEntry(), v: 2, status: "Failed" as const };
    const restart = decide(failed, { kind: "restart" }, context, 9);
    expect(restart.next).toMatchObject({ status: "Waiting", run: 2, restarted: 9, budgetFromRun: 2 });
    expect(restart.effects).toContainEqual({ kind: "submitRun", run: 2, attempts: 3 });
    expect(decide(newEntry(), { kind: "restart" }, context, 9).refusal).toContain("has not ended");
  });

  it("a priority change cancels the waiting Batch job; a stopped job keeps its priority", () => {
    const change = decide(
      newEntry(),
      { kind: "reprioritize", priority: 7 },
      { ...context, currentBatchJobId: "p:2" },
      9,
    );
    expect(change.next).toMatchObject({ priority: 7, repriorityRequested: 9 });
    expect(change.effects[0]).toMatchObject({ kind: "cancel", batchJobId: "p:2" });
    const stopping = { ...newEntry(), stopRequested: 1 };
    expect(
      decide(stopping, { kind: "reprioritize", priority: 7 }, { ...context, currentBatchJobId: "p:2" }, 9),
    ).toEqual({
      effects: [],
    });
  });

  it("the current Batch job is the array child for run 1 and the scheduler's own job afterwards", () => {
    const group = { state: "submitted", batchJobId: "parent", offset: 100, size: 50 };
    expect(currentBatchJobId(group, 103, newEntry())).toBe("parent:3");
    expect(currentBatchJobId({ ...group, size: 1 }, 100, newEntry())).toBe("parent");
    expect(currentBatchJobId(group, 103, { ...newEntry(), run: 2, batchJobId: "own" })).toBe("own");
    expect(currentBatchJobId(group, 103, { ...newEntry(), run: 2, resubmitRequested: 1 })).toBeUndefined();
    expect(currentBatchJobId({ ...group, state: "pending" }, 103, newEntry())).toBeUndefined();
  });
});
