import { describe, expect, it } from "vitest";
import {
  indexCode,
  indexOnlyState,
  progressOfCode,
  statusOfCode,
  throughIndex,
} from "#lib/domain/index-state.js";
import { decide } from "#lib/domain/job-machine.js";
import { applyObservation, type JobEntry, newEntry, type Observation } from "#lib/domain/job-state.js";
import { restartEntry } from "#lib/domain/rerun.js";

const observe = (batchStatus: string, extra: Partial<Observation> = {}): Observation => ({
  run: 1,
  batchJobId: "parent:7",
  batchStatus,
  attempts: [],
  ...extra,
});

const apply = (entry: JobEntry, observation: Observation, now = 1000) =>
  applyObservation(entry, observation, now) ?? entry;

/** What a reader sees of a job: drops the fields an index-only change leaves behind on purpose. */
const shown = (entry: JobEntry) => {
  const { v: _v, updated: _u, previousStatus: _p, batchJobId: _b, ...rest } = entry;
  return { ...rest, attempts: entry.attempts.map(({ log: _log, ...attempt }) => attempt) };
};

const failed = { startedAt: 10, stoppedAt: 20, exitCode: 1, reason: "boom", logStreamName: "s/1" };

describe("status-only changes go to the shard's index alone, and readers see them through it", () => {
  it("PENDING, RUNNABLE, STARTING and RUNNING of a waiting job are status-only; a reader sees what applying them gives", () => {
    const item = newEntry();
    let decided = item;
    for (const observation of [
      observe("PENDING"),
      observe("RUNNABLE"),
      observe("STARTING"),
      observe("RUNNING", { startedAt: 50, logStreamName: "compute/default/abc" }),
    ]) {
      decided = apply(decided, observation);
      const indexed = indexOnlyState(item, decided);
      expect(indexed, observation.batchStatus).toBeDefined();
      // The item never moved: the reader sees it through the latest code alone.
      expect(shown(throughIndex(item, indexed))).toEqual(shown(decided));
      expect(throughIndex(item, indexed).batchStatus).toBe(observation.batchStatus);
    }
    expect(throughIndex(item, indexOnlyState(item, decided))).toMatchObject({
      status: "Running",
      batchStatus: "RUNNING",
      started: 50,
      // The last change a reader can date: the attempt's start.
      updated: 50,
      attempts: [{ run: 1, start: 50 }],
    });
  });

  it("what carries more than a status needs the job's item: an end, a finished attempt, a reason, another run, a pending event", () => {
    const running = apply(apply(newEntry(), observe("STARTING")), observe("RUNNING", { startedAt: 10 }));
    const cases: [string, JobEntry][] = [
      [
        "SUCCEEDED",
        apply(running, observe("SUCCEEDED", { attempts: [{ ...failed, exitCode: 0 }], stoppedAt: 20 })),
      ],
      [
        "a retry (RUNNABLE with a finished attempt)",
        apply(running, observe("RUNNABLE", { attempts: [failed] })),
      ],
      ["a status reason", apply(newEntry(), observe("RUNNABLE", { statusReason: "CAPACITY:INSUFFICIENT" }))],
      ["a pending event", { ...apply(newEntry(), observe("STARTING")), outbox: [{ sequence: 1 }] }],
    ];
    for (const [what, next] of cases) expect(indexOnlyState(running, next), what).toBeUndefined();
    // A second run's first event changes its Batch job id, which the job's item must hold.
    const retried = { ...running, run: 2, progress: 2_000_000, resubmitRequested: 5, batchJobId: undefined };
    const second = apply(retried, observe("RUNNABLE", { run: 2, batchJobId: "own-run" }));
    expect(indexOnlyState(retried, second)).toBeUndefined();
  });

  it("a late or repeated change is not ahead of the job: not written", () => {
    const running = apply(apply(newEntry(), observe("STARTING")), observe("RUNNING", { startedAt: 10 }));
    expect(indexOnlyState(running, running)).toBeUndefined();
  });

  it("an index behind the item (a crash between the two writes) changes nothing: the item is newer", () => {
    const started = apply(newEntry(), observe("STARTING"));
    const done = apply(started, observe("SUCCEEDED", { attempts: [{ ...failed, exitCode: 0 }] }));
    expect(throughIndex(done, { code: indexCode(started) })).toBe(done);
  });

  it("a job's code only grows over its whole life: attempts, a retry, its end, a restart", () => {
    const codes: number[] = [];
    let entry = newEntry();
    const record = (next: JobEntry) => {
      if (next.status !== entry.status) codes.push(indexCode(next));
      entry = next;
    };
    record(apply(entry, observe("STARTING")));
    record(apply(entry, observe("RUNNING", { startedAt: 10 })));
    record(apply(entry, observe("RUNNABLE", { attempts: [failed] })));
    record(apply(entry, observe("RUNNING", { attempts: [failed], startedAt: 30 })));
    record(apply(entry, observe("FAILED", { attempts: [failed, failed] })));
    record(restartEntry(entry, 2000));
    record(apply(entry, observe("STARTING", { run: 2 })));
    const stopped = decide(entry, { kind: "finish", status: "Stopped", message: "stopped" }, {}, 3000);
    record(stopped.next!);
    expect(codes).toEqual([...codes].sort((a, b) => a - b));
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.map(statusOfCode)).toEqual([
      "Active",
      "Running",
      "Waiting",
      "Running",
      "Failed",
      "Waiting",
      "Active",
      "Stopped",
    ]);
    expect(progressOfCode(codes.at(-1)!)).toBe(entry.progress);
  });
});
