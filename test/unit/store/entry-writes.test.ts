import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyObservation, type Observation } from "#lib/domain/job-state.js";
import type { DynamoJobStore } from "#lib/store/dynamo-job-store.js";
import { writeEntriesWithRetry } from "#lib/store/entry-writes.js";
import type { BatchRecord } from "#lib/store/job-store.js";
import { dynamoEndpoints, startJobStore } from "#test/support/dynamo-endpoints.js";

/**
 * The compare-and-swap loop with status-only changes written to the index alone, as the events path
 * does it: a job's item lags behind its index, and what a change decides must still be right.
 */
const [dynalite] = dynamoEndpoints();
let store: DynamoJobStore;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  ({ store, close } = await startJobStore(dynalite!));
}, 60_000);
afterAll(async () => {
  await close?.();
});

const batch = (name: string): BatchRecord => ({
  name,
  component: "compute",
  batchType: "batch",
  created: 0,
  size: 10,
  groupCount: 1,
});

const observe = (batchStatus: string, extra: Partial<Observation> = {}): Observation => ({
  run: 1,
  batchJobId: "parent:3",
  batchStatus,
  attempts: [],
  ...extra,
});

/** Records one observation of job 3 as the events path does (index alone where it can). */
const record = (name: string, observation: Observation) =>
  writeEntriesWithRetry(store, {
    batchName: name,
    shard: 0,
    ttl: undefined,
    indexOnly: true,
    readIndex: observation.batchStatus === "SUCCEEDED",
    changes: [{ slot: 3, change: (entry) => applyObservation(entry, observation, 1) }],
    finish: (_slot, before, after) => ({ ...after, previousStatus: before.status }),
  });

describe("writing status-only changes to the index alone", () => {
  it("a change decided on a lagging item gets its previous status from the index; a late one changes nothing; an end writes the item", async () => {
    const name = "batch-compute-20240101000000-llllllll";
    await store.createBatch(batch(name), [], []);
    await record(name, observe("STARTING"));
    const running = await record(name, observe("RUNNING", { startedAt: 7 }));
    expect(running.outcomes).toEqual(["applied"]);
    // Decided on the item (still Waiting), but the job was Active: that is its previous status.
    expect(running.touched.get(3)).toMatchObject({
      before: { status: "Active" },
      after: { status: "Running", previousStatus: "Active" },
    });
    expect(running.moves.at(-1)).toMatchObject({ before: { Active: 1 }, after: { Running: 1 } });

    // A late STARTING: the item alone says it is newer, the index says it is not.
    const late = await record(name, observe("STARTING"));
    expect(late.outcomes).toEqual(["unchanged"]);
    expect(late.touched.size).toBe(0);
    expect(late.seen.get(3)).toMatchObject({ status: "Running", started: 7 });

    const done = await record(
      name,
      observe("SUCCEEDED", { attempts: [{ startedAt: 7, stoppedAt: 9, exitCode: 0 }], stoppedAt: 9 }),
    );
    expect(done.touched.get(3)).toMatchObject({
      before: { status: "Running" },
      after: { status: "Succeeded" },
    });
    const { jobs } = await store.readJobs(name, 0, [3], { withIndex: false });
    expect(jobs.get(3)!.item).toMatchObject({ v: 1, status: "Succeeded", started: 7, ended: 9 });
  });
});
