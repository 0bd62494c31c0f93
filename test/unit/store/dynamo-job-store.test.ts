import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { indexOnlyState } from "#lib/domain/index-state.js";
import { applyObservation } from "#lib/domain/job-state.js";
import { countsOf } from "#lib/service/views.js";
import type { DynamoJobStore } from "#lib/store/dynamo-job-store.js";
import { type BatchRecord, SHARD_SIZE, shardOf } from "#lib/store/job-store.js";
import { dynamoEndpoints, startJobStore } from "#test/support/dynamo-endpoints.js";

/**
 * The DynamoDB store's contract suite, run against dynalite and, when installed, moto_server (a second,
 * independent DynamoDB implementation): what the product relies on holds on both.
 */
describe.each(dynamoEndpoints())("DynamoJobStore on $name", (endpoint) => {
  let store: DynamoJobStore;
  let close: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ store, close } = await startJobStore(endpoint));
  }, 60_000);
  afterAll(async () => {
    await close?.();
  });

  const batch = (name: string, size: number): BatchRecord => ({
    name,
    component: "compute",
    batchType: "batch",
    created: Date.parse("2024-01-01T00:00:00Z"),
    size,
    groupCount: 1,
  });

  it("records a batch in shards of 100 with every job Waiting", async () => {
    const name = "batch-compute-20240101000000-aaaaaaaa";
    await store.createBatch(
      batch(name, 250),
      [],
      Array.from({ length: 250 }, (_, i) => `id-${i}`),
    );
    expect(await store.getBatch(name)).toMatchObject({ name, size: 250 });
    const shards = await store.listShards(name, 0, 10);
    expect(shards.map((shard) => shard.entries.size)).toEqual([SHARD_SIZE, SHARD_SIZE, 50]);
    expect(countsOf(shards)).toMatchObject({ Waiting: 250, Running: 0 });
    expect(countsOf(await store.getSummaries(name, 3))).toMatchObject({ Waiting: 250, Running: 0 });
    expect(shards[2]!.entries.get(49)?.jobId).toBe("id-249");
  });

  // moto applies concurrent updates of one item (the shard's index) as whole-item read and write, so
  // some of 100 simultaneous index moves are lost there; its conditions still hold (tested below).
  it.skipIf(!endpoint.atomicItemUpdates)(
    "concurrent transitions of one shard keep its counters exact, and a stale version loses",
    async () => {
      const name = "batch-compute-20240101000000-bbbbbbbb";
      await store.createBatch(batch(name, 100), [], []);
      const shard = await store.getShard(name, 0);
      const writes = [...shard!.entries].map(async ([slot, entry]) => {
        const next = applyObservation(
          entry,
          { run: 1, batchJobId: `x:${slot}`, batchStatus: "RUNNING", attempts: [], startedAt: 5 },
          10,
        )!;
        const result = await store.writeEntries({
          batchName: name,
          shard: 0,
          entries: [{ slot, next, expectedVersion: entry.v, previousStatus: entry.status }],
        });
        return result.written[0];
      });
      expect((await Promise.all(writes)).every(Boolean)).toBe(true);
      const after = await store.getShard(name, 0);
      expect(after!.counts).toEqual({ Running: 100 });
      const { slot } = shardOf(3);
      const stale = shard!.entries.get(slot)!;
      const lost = await store.writeEntries({
        batchName: name,
        shard: 0,
        entries: [
          {
            slot,
            next: { ...stale, v: stale.v + 1, status: "Succeeded" },
            expectedVersion: stale.v,
            previousStatus: stale.status,
          },
        ],
      });
      expect(lost.written).toEqual([false]);
      const counts = (await store.getShard(name, 0))!.counts;
      expect([counts.Running, counts.Succeeded ?? 0]).toEqual([100, 0]);
    },
  );

  it("a write for a deleted batch does not bring it back", async () => {
    const name = "batch-compute-20240101000000-cccccccc";
    await store.createBatch(batch(name, 1), [], []);
    const entry = (await store.getShard(name, 0))!.entries.get(0)!;
    await store.deleteBatch(name, 1, 0);
    const written = await store.writeEntries({
      batchName: name,
      shard: 0,
      entries: [
        {
          slot: 0,
          next: { ...entry, v: 1, status: "Running" },
          expectedVersion: 0,
          previousStatus: "Waiting",
        },
      ],
    });
    expect(written).toMatchObject({ written: [false], missing: true });
    expect(await store.getBatch(name)).toBeUndefined();
    expect(await store.getShard(name, 0)).toBeUndefined();
  });

  it("lists batches newest first with paging, and active batches until settled", async () => {
    const names = [
      "batch-lister-20240101000001-aaaaaaaa",
      "batch-lister-20240101000002-aaaaaaaa",
      "batch-lister-20240101000003-aaaaaaaa",
    ];
    for (const [i, name] of names.entries()) {
      await store.createBatch(
        { ...batch(name, 1), component: "lister", created: Date.parse("2024-01-01T00:00:00Z") + i * 1000 },
        [],
        [],
      );
    }
    const first = await store.listBatches("lister", "batch", { limit: 2 });
    expect(first.items.map((item) => item.name)).toEqual([names[2], names[1]]);
    const second = await store.listBatches("lister", "batch", { limit: 2, nextToken: first.nextToken });
    expect(second.items.map((item) => item.name)).toEqual([names[0]]);
    await store.markBatchSettled(names[0]!);
    const active: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.listActiveBatches({ limit: 50, nextToken: token });
      active.push(...page.items);
      token = page.nextToken;
    } while (token);
    expect(active).toContain(names[1]);
    expect(active).not.toContain(names[0]);
  });

  it("a batch has a status tracker whose shard sets take a membership once, however often it is recorded", async () => {
    const name = "batch-compute-20240101000000-dddddddd";
    await store.createBatch(batch(name, 250), [], []);
    expect(await store.getTracker(name)).toEqual({
      shardCount: 3,
      startedShards: [],
      endedShards: [],
      status: "Waiting",
      phase: "waiting",
      seq: 0,
      published: 0,
    });
    await store.markShard(name, 2, { started: true, ended: false });
    await store.markShard(name, 2, { started: true, ended: false });
    const ended = await store.markShard(name, 0, { started: true, ended: true });
    expect(ended).toMatchObject({ startedShards: [0, 2], endedShards: [0] });
    const back = await store.markShard(name, 2, { started: false, ended: false });
    expect(back).toMatchObject({ startedShards: [0], endedShards: [0] });
    await store.deleteBatch(name, 3, 0);
    expect(await store.getTracker(name)).toBeUndefined();
    expect(await store.markShard(name, 1, { started: true, ended: false })).toBeUndefined();
  });

  it("records a batch status only on the sequence it read, and nothing new while an event is pending", async () => {
    const name = "batch-compute-20240101000000-eeeeeeee";
    await store.createBatch(batch(name, 3), [], []);
    const event = { batchName: name, status: "Running", sequence: 1 } as never;
    expect(await store.recordBatchStatus(name, 0, { status: "Running", phase: "active", event })).toBe(true);
    expect(await store.recordBatchStatus(name, 0, { status: "Failed", phase: "ended" })).toBe(false);
    // Pending (published < seq): the next status waits until the event is out.
    expect(await store.recordBatchStatus(name, 1, { status: "Failed", phase: "ended" })).toBe(false);
    expect(await store.getTracker(name)).toMatchObject({
      status: "Running",
      seq: 1,
      published: 0,
      last: event,
    });
    await store.markBatchPublished(name, 1);
    await store.markBatchPublished(name, 1);
    expect(await store.recordBatchStatus(name, 1, { status: "Running", phase: "ended" })).toBe(true);
    // A phase alone has no event: recorded as published at once.
    expect(await store.getTracker(name)).toMatchObject({
      status: "Running",
      phase: "ended",
      seq: 2,
      published: 2,
    });
  });

  it("each job is its own item, and the shard's index counts only forward: a late or repeated index write changes nothing", async () => {
    const name = "batch-compute-20240101000000-gggggggg";
    await store.createBatch(batch(name, 150), [], []);
    const waiting = (await store.getEntries(name, 1, [7])).get(7)!;
    expect(waiting).toMatchObject({ v: 0, status: "Waiting" });
    const running = { ...waiting, v: 1, status: "Running" as const, started: 5 };
    const done = { ...running, v: 2, status: "Succeeded" as const, ended: 9 };
    const first = await store.writeEntries({
      batchName: name,
      shard: 1,
      entries: [{ slot: 7, next: running, expectedVersion: 0, previousStatus: "Waiting" }],
    });
    expect(first.counts?.before).toMatchObject({ Waiting: 50 });
    expect(first.counts?.after).toMatchObject({ Waiting: 49, Running: 1 });
    await store.writeEntries({
      batchName: name,
      shard: 1,
      entries: [{ slot: 7, next: done, expectedVersion: 1, previousStatus: "Running" }],
    });
    // The index write of the earlier change arrives again, late: the count stays with the newer one.
    await store.repairIndex(name, 1, [{ slot: 7, entry: running }]);
    const [, shard1] = await store.getSummaries(name, 2);
    expect(shard1).toMatchObject({ index: 1, size: 50, counts: { Waiting: 49, Succeeded: 1 }, started: 5 });
    expect((await store.getEntries(name, 1, [7, 8])).get(7)).toMatchObject({ v: 2, status: "Succeeded" });
  });

  it("a status-only change goes to the shard's index alone: the job's item stays, readers see the change, a late one is refused", async () => {
    const name = "batch-compute-20240101000000-jjjjjjjj";
    await store.createBatch(batch(name, 150), [], []);
    const observe = (batchStatus: string, startedAt?: number) => ({
      run: 1,
      batchJobId: "parent:107",
      batchStatus,
      attempts: [],
      ...(startedAt === undefined ? {} : { startedAt }),
    });
    const item = (await store.getEntries(name, 1, [7])).get(7)!;
    const starting = applyObservation(item, observe("STARTING"), 1)!;
    const running = applyObservation(starting, observe("RUNNING", 40), 2)!;
    const write = (next: typeof item, indexOnly: ReturnType<typeof indexOnlyState>) =>
      store.writeEntries({
        batchName: name,
        shard: 1,
        entries: [{ slot: 7, next, expectedVersion: 0, previousStatus: "Waiting", indexOnly: indexOnly! }],
      });
    const first = await write(running, indexOnlyState(item, running));
    expect(first.written).toEqual([true]);
    expect(first.counts?.after).toMatchObject({ Waiting: 49, Running: 1 });
    // The late STARTING: the index holds something newer, so it is not written and counts stay.
    const late = await write(starting, indexOnlyState(item, starting));
    expect(late.written).toEqual([false]);
    const { jobs } = await store.readJobs(name, 1, [7], { withIndex: false });
    expect(jobs.get(7)!.item).toMatchObject({ v: 0, status: "Waiting" });
    expect((await store.getEntries(name, 1, [7])).get(7)).toMatchObject({
      status: "Running",
      started: 40,
      attempts: [{ run: 1, start: 40 }],
    });
    expect((await store.getShard(name, 1))!.entries.get(7)).toMatchObject({ status: "Running", started: 40 });
    const [, summary] = await store.getSummaries(name, 2);
    expect(summary).toMatchObject({ counts: { Waiting: 49, Running: 1 }, started: 40 });
    // The end is written to the job's item, which then is the newer.
    const done = {
      ...running,
      v: 1,
      status: "Succeeded" as const,
      progress: running.progress + 10,
      ended: 90,
    };
    await store.writeEntries({
      batchName: name,
      shard: 1,
      entries: [{ slot: 7, next: done, expectedVersion: 0, previousStatus: "Running" }],
    });
    expect((await store.getEntries(name, 1, [7])).get(7)).toMatchObject({
      v: 1,
      status: "Succeeded",
      ended: 90,
    });
  });

  it("a whole shard's jobs changed in one write stay within DynamoDB's expression limits, and all of them count", async () => {
    const name = "batch-compute-20240101000000-kkkkkkkk";
    await store.createBatch(batch(name, SHARD_SIZE), [], []);
    const slots = Array.from({ length: SHARD_SIZE }, (_, slot) => slot);
    const items = await store.getEntries(name, 0, slots);
    const observation = { run: 1, batchJobId: "parent", batchStatus: "RUNNING", attempts: [], startedAt: 5 };
    const entries = slots.map((slot) => {
      const next = applyObservation(items.get(slot)!, observation, 1)!;
      return {
        slot,
        next,
        expectedVersion: 0,
        previousStatus: "Waiting",
        indexOnly: indexOnlyState(items.get(slot)!, next)!,
      };
    });
    const moved = await store.writeEntries({ batchName: name, shard: 0, entries });
    expect(moved.written.every(Boolean)).toBe(true);
    expect(moved.counts?.before).toMatchObject({ Waiting: SHARD_SIZE });
    expect(moved.counts?.after).toEqual({ Running: SHARD_SIZE });
    // The same again with their items (an end each): one conditional write per job, then the index.
    const ended = slots.map((slot) => ({
      slot,
      next: { ...entries[slot]!.next, v: 1, status: "Succeeded" as const, progress: 1_999_999, ended: 9 },
      expectedVersion: 0,
      previousStatus: "Running",
    }));
    const done = await store.writeEntries({ batchName: name, shard: 0, entries: ended });
    expect(done.counts?.after).toEqual({ Succeeded: SHARD_SIZE });
    const [summary] = await store.getSummaries(name, 1);
    expect(summary).toMatchObject({ counts: { Succeeded: SHARD_SIZE }, started: 5, ended: 9 });
  });

  it("a single job has no tracker: its status is its job's", async () => {
    const name = "batch-compute-20240101000000-ffffffff";
    await store.createBatch({ ...batch(name, 1), batchType: "job" }, [], []);
    expect(await store.getTracker(name)).toBeUndefined();
    expect((await store.getShard(name, 0))!.batchType).toBe("job");
  });

  it("dependents' marks: a set on the record, and on the index items a job's change returns", async () => {
    const name = "batch-compute-20240101000000-gggggggg";
    await store.createBatch(batch(name, 150), [], []);
    expect(await store.addDependents(name, ["dep-a"])).toBe(true);
    expect(await store.addDependents(name, ["dep-b@*"], [0, 1])).toBe(true);
    expect(await store.addDependents(name, ["dep-b@*"], [0, 1])).toBe(true);
    expect((await store.getBatch(name))!.dependents).toEqual(["dep-a", "dep-b@*"]);
    const waiting = (await store.getEntries(name, 1, [3])).get(3)!;
    const ended = await store.writeEntries({
      batchName: name,
      shard: 1,
      entries: [
        {
          slot: 3,
          next: { ...waiting, v: 1, status: "Failed" },
          expectedVersion: 0,
          previousStatus: "Waiting",
        },
      ],
    });
    expect(ended.counts?.dependents).toEqual(["dep-b@*"]);
    await store.removeDependents(name, ["dep-b@*"], [0, 1]);
    expect((await store.getBatch(name))!.dependents).toEqual(["dep-a"]);
    expect(await store.addDependents("batch-compute-20240101000000-nonenone", ["x"])).toBe(false);
  });

  it("a dependent's decision is recorded once: met and unmet exclude each other, and a stop excludes both", async () => {
    const met = "batch-compute-20240101000000-hhhhhhhh";
    const unmet = "batch-compute-20240101000000-iiiiiiii";
    const stopped = "batch-compute-20240101000000-jjjjjjjj";
    for (const name of [met, unmet, stopped]) await store.createBatch(batch(name, 1), [], []);
    expect(await store.recordDependenciesMet(met, 1)).toBe(true);
    expect(await store.recordDependenciesMet(met, 2)).toBe(false);
    expect(await store.recordDependencyUnmet(met, 3, "no")).toBe(false);
    expect(await store.recordDependencyUnmet(unmet, 4, "A failed")).toBe(true);
    expect(await store.recordDependenciesMet(unmet, 5)).toBe(false);
    expect(await store.getBatch(unmet)).toMatchObject({ stopRequested: 4, dependencyUnmet: "A failed" });
    await store.markBatchStopRequested(stopped, 6);
    expect(await store.recordDependenciesMet(stopped, 7)).toBe(false);
    expect(await store.recordDependencyUnmet(stopped, 7, "late")).toBe(false);
    expect(await store.getBatch(met)).toMatchObject({ dependenciesMet: 1 });
  });
});
