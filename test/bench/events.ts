import { performance } from "node:perf_hooks";
import type { LocalStack } from "#lib/local/stack.js";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import { type CallCounter, sum } from "./counting.js";
import { childStateChange, recordBatch } from "./recorded-batch.js";

export interface EventRow {
  jobs: number;
  events: number;
  dynamoOpsPerEvent: number;
  msPerEvent: number;
}

/**
 * Per-event cost, measured in isolation: a batch of `jobs` jobs is recorded, then RUNNABLE, RUNNING and
 * SUCCEEDED events for 100 of its jobs (spread over all its shards) go through the events handler one at
 * a time, as AWS would deliver them to one Lambda instance. Reports DynamoDB operations and time per event.
 */
export async function benchEvents(stack: LocalStack, counter: CallCounter, jobs: number): Promise<EventRow> {
  const { name, groups } = await recordBatch(stack, jobs);
  const handler = createBatchEventsHandler(stack.deps);
  const sampled = Array.from({ length: Math.min(100, jobs) }, (_, i) =>
    Math.floor((i * jobs) / Math.min(100, jobs)),
  );
  const events = sampled.flatMap((ordinal) =>
    ["RUNNABLE", "RUNNING", "SUCCEEDED"].map((status) => stateChange(name, groups, ordinal, status)),
  );
  const before = counter.snapshot();
  const started = performance.now();
  for (const event of events) await handler(event);
  const elapsed = performance.now() - started;
  const dynamoOps = sum(counter.since(before), "DynamoDB:");
  return {
    jobs,
    events: events.length,
    dynamoOpsPerEvent: dynamoOps / events.length,
    msPerEvent: elapsed / events.length,
  };
}

/** One child's change to `status`: a first attempt that succeeds after a second. */
function stateChange(
  batchName: string,
  groups: Parameters<typeof childStateChange>[1],
  ordinal: number,
  status: string,
) {
  const now = Date.now();
  const final = status === "SUCCEEDED";
  return childStateChange(batchName, groups, ordinal, {
    id: `${batchName}-${ordinal}-${status}`,
    time: now,
    status,
    statusReason: final ? "Essential container in task exited" : undefined,
    startedAt: status === "RUNNABLE" ? undefined : now - 1000,
    stoppedAt: final ? now : undefined,
    attempts: final ? [{ startedAt: now - 1000, stoppedAt: now, container: { exitCode: 0 } }] : [],
  });
}
