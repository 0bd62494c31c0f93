import { describe, expect, it } from "vitest";
import { newEntry } from "#lib/domain/job-state.js";
import { jobName } from "#lib/domain/names.js";
import {
  fromPending,
  mergeOutbox,
  OUTBOX_LIMIT,
  toPending,
  withoutPublished,
} from "#lib/service/job-outbox.js";

const BATCH = "batch-compute-20240101000000-aaaaaaaa";
const event = (sequence: number) => ({
  previousStatus: "Waiting",
  status: "Active",
  attempts: 0,
  sequence,
  time: "t",
});

describe("a job's outbox", () => {
  it("keeps events without what the job's place gives, and gives it back", () => {
    const full = { ...event(7), component: "compute", batchName: BATCH, jobName: jobName(BATCH, 5) };
    const kept = toPending(full);
    expect(kept).not.toHaveProperty("batchName");
    expect(fromPending(BATCH, 5, kept)).toEqual(full);
  });

  it("merges by sequence without repeats, oldest first, and drops the oldest beyond its limit", () => {
    expect(mergeOutbox([event(3)], [event(1), event(3)])).toEqual({
      outbox: [event(1), event(3)],
      dropped: 0,
    });
    const many = Array.from({ length: OUTBOX_LIMIT + 2 }, (_, i) => event(i));
    const merged = mergeOutbox(undefined, many);
    expect(merged.dropped).toBe(2);
    expect(merged.outbox.map((e) => e.sequence)).toEqual(many.slice(2).map((e) => e.sequence));
  });

  it("gives up what was published, only that, as a new version of the entry", () => {
    const entry = { ...newEntry(), v: 4, outbox: [event(1), event(2), event(3)] };
    expect(withoutPublished(entry, 2)).toEqual({ ...entry, v: 5, outbox: [event(3)] });
    expect(withoutPublished(entry, 3)).not.toHaveProperty("outbox");
    expect(withoutPublished({ ...entry, outbox: [event(9)] }, 3)).toBeUndefined();
    expect(withoutPublished(newEntry(), 3)).toBeUndefined();
  });
});
