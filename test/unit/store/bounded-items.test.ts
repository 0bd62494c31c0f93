import { type DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decide } from "#lib/domain/job-machine.js";
import type { AttemptFacts } from "#lib/domain/job-state.js";
import { jobStatusView } from "#lib/service/views.js";
import type { DynamoJobStore } from "#lib/store/dynamo-job-store.js";
import { type BatchRecord, SHARD_SIZE } from "#lib/store/job-store.js";
import { dynamoEndpoints, startJobStore } from "#test/support/dynamo-endpoints.js";

let store: DynamoJobStore;
let documents: DynamoDBDocumentClient;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // dynalite: the first endpoint, always there.
  ({ store, documents, close } = await startJobStore(dynamoEndpoints()[0]!));
}, 60_000);
afterAll(async () => {
  await close?.();
});

/** The bound the state layout promises for any item, whatever happens to the jobs (issue 17). */
const ITEM_BOUND_BYTES = 64 * 1024;
/** AWS allows 1,024 characters for a container reason and for a status reason: the longest there are. */
const LONG = "CannotPullContainerError: ".padEnd(1024, "x");

describe("a job's item stays bounded", () => {
  it("a shard of jobs failing 10 attempts a run for 12 runs with 1 KB reasons: every write succeeds, every item stays under 64 KB, and the attempts still add up", async () => {
    const name = "batch-compute-20240101000000-hhhhhhhh";
    const batch: BatchRecord = {
      name,
      component: "compute",
      batchType: "batch",
      created: 0,
      size: SHARD_SIZE,
      groupCount: 1,
    };
    await store.createBatch(batch, [], []);
    const context = { group: { spec: { backoffLimit: 1000, timeLimitSeconds: 10 ** 9 }, submittedAt: 0 } };
    const runs = 12;
    const slots = Array.from({ length: SHARD_SIZE }, (_, slot) => slot);
    for (let run = 1; run <= runs; run++) {
      const attempts: AttemptFacts[] = Array.from({ length: 10 }, (_, i) => ({
        startedAt: run * 1000 + i * 10,
        stoppedAt: run * 1000 + i * 10 + 5,
        exitCode: 1,
        reason: LONG,
        statusReason: LONG,
        logStreamName: `compute/default/${"f".repeat(32)}`,
      }));
      const entries = await store.getEntries(name, 0, slots);
      const writes = slots.map((slot) => {
        const entry = entries.get(slot)!;
        const observation = {
          run,
          batchJobId: `job-${run}-${slot}`,
          batchStatus: "FAILED",
          statusReason: LONG,
          attempts,
        };
        const { next } = decide(entry, { kind: "observe", observation }, context, run * 1000 + 500);
        expect(next?.run).toBe(run + 1);
        return { slot, next: next!, expectedVersion: entry.v, previousStatus: entry.status };
      });
      const result = await store.writeEntries({ batchName: name, shard: 0, entries: writes });
      expect(result.written.every(Boolean)).toBe(true);
    }
    const { Item } = await documents.send(
      new GetCommand({ TableName: "jobs", Key: { pk: `B#${name}`, sk: "J42" }, ConsistentRead: true }),
    );
    expect(Buffer.byteLength(JSON.stringify(Item))).toBeLessThan(ITEM_BOUND_BYTES);
    const entry = (await store.getEntries(name, 0, [42])).get(42)!;
    const view = jobStatusView(batch, 42, entry);
    // 120 attempts failed: 10 earlier ones kept in full with the first failure, the rest summarized.
    expect(view.failed).toBe(runs * 10);
    expect(view.podStatuses[0]).toMatchObject({ podIndex: 0, summarizedAttempts: runs * 10 - 10 });
    expect(view.podStatuses.at(-1)?.podIndex).toBe(runs * 10 - 1);
    expect(entry.attempts.every((attempt) => (attempt.reason?.length ?? 0) <= 256)).toBe(true);
  });
});
