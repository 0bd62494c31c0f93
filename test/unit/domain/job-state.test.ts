import { describe, expect, it } from "vitest";
import { applyObservation, type JobEntry, newEntry, type Observation } from "#lib/domain/job-state.js";
import { BATCH_TIMEOUT_REASON, radixStatusFor, STOP_REASON } from "#lib/domain/status.js";

const observe = (batchStatus: string, extra: Partial<Observation> = {}): Observation => ({
  run: 1,
  batchJobId: "job-1",
  batchStatus,
  attempts: [],
  ...extra,
});

function replay(observations: Observation[]): JobEntry {
  let entry = newEntry("my-job");
  for (const observation of observations) entry = applyObservation(entry, observation, 1000) ?? entry;
  return entry;
}

describe("AWS Batch status → Radix status", () => {
  it.each([
    ["SUBMITTED", "Waiting"],
    ["PENDING", "Waiting"],
    ["RUNNABLE", "Waiting"],
    ["STARTING", "Active"],
    ["RUNNING", "Running"],
    ["SUCCEEDED", "Succeeded"],
    ["FAILED", "Failed"],
  ])("%s is %s", (batch, radix) => {
    expect(radixStatusFor(batch)).toBe(radix);
  });

  it("FAILED after a stop is Stopped, after the time limit DeadlineExceeded", () => {
    expect(radixStatusFor("FAILED", { statusReason: STOP_REASON })).toBe("Stopped");
    expect(radixStatusFor("FAILED", { stopRequested: true })).toBe("Stopped");
    expect(radixStatusFor("FAILED", { statusReason: BATCH_TIMEOUT_REASON })).toBe("DeadlineExceeded");
  });
});

describe("forward-only transitions", () => {
  const finished = { startedAt: 10, stoppedAt: 20, exitCode: 3, reason: "boom" };
  const sequence = [
    observe("RUNNABLE"),
    observe("STARTING", { startedAt: 10 }),
    observe("RUNNING", { startedAt: 10 }),
    observe("FAILED", {
      startedAt: 10,
      stoppedAt: 20,
      attempts: [finished],
      statusReason: "Essential container in task exited",
    }),
  ];

  it("ends Failed with the exit code and times of the attempt", () => {
    const entry = replay(sequence);
    expect(entry).toMatchObject({ status: "Failed", exitCode: 3, started: 10, ended: 20 });
    expect(entry.attempts).toHaveLength(1);
  });

  it("duplicated events change nothing", () => {
    const once = replay(sequence);
    const twice = replay(sequence.flatMap((event) => [event, event]));
    expect(twice).toEqual(once);
  });

  it("late events after the final one change nothing, in any order", () => {
    const reversed = replay([...sequence].reverse());
    expect(reversed.status).toBe("Failed");
    expect(replay([sequence[3]!, sequence[1]!, sequence[2]!, sequence[0]!])).toEqual(reversed);
  });

  it("a retry's RUNNABLE after a finished attempt moves forward", () => {
    const entry = replay([
      observe("RUNNING", { startedAt: 10 }),
      observe("RUNNABLE", { attempts: [finished] }),
      observe("RUNNING", { startedAt: 30, attempts: [finished] }),
    ]);
    expect(entry.status).toBe("Running");
    expect(entry.attempts).toHaveLength(2);
    expect(entry.started).toBe(10);
  });

  it("events of an earlier run are ignored once a new run started", () => {
    const entry = replay([
      observe("RUNNING", { run: 2 }),
      observe("FAILED", { run: 1, attempts: [finished] }),
    ]);
    expect(entry.status).toBe("Running");
  });
});
