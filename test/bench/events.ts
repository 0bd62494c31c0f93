import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { PARAM_BATCH, PARAM_OFFSET, PARAM_RUN } from "#lib/batch/submit-input.js";
import { effectiveSpec } from "#lib/domain/effective-spec.js";
import { groupJobs } from "#lib/domain/grouping.js";
import { newBatchName, randomSuffix } from "#lib/domain/names.js";
import type { LocalStack } from "#lib/local/stack.js";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import type { GroupRecord } from "#lib/store/job-store.js";
import type { CallCounter } from "./counting.js";

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
  // The batch is recorded as the API records it, but not submitted: the events below stand in for
  // AWS Batch's, so nothing else writes to the batch while it is measured.
  const created = { name: newBatchName("compute", new Date(), randomSuffix()) };
  const spec = effectiveSpec(stack.runtime.components[0]!, stack.runtime);
  const groups: GroupRecord[] = groupJobs(Array.from({ length: jobs }, () => spec)).map((group) => ({
    batchName: created.name,
    index: group.index,
    offset: group.offset,
    size: group.size,
    spec,
    state: "submitted",
    run: 1,
    batchJobId: randomUUID(),
    submittedAt: Date.now(),
  }));
  await stack.deps.store.createBatch(
    {
      name: created.name,
      component: "compute",
      batchType: "batch",
      created: Date.now(),
      size: jobs,
      groupCount: groups.length,
    },
    groups,
    [],
  );
  const handler = createBatchEventsHandler(stack.deps);
  const sampled = Array.from({ length: Math.min(100, jobs) }, (_, i) =>
    Math.floor((i * jobs) / Math.min(100, jobs)),
  );
  const events = sampled.flatMap((ordinal) =>
    ["RUNNABLE", "RUNNING", "SUCCEEDED"].map((status) => stateChange(created.name, groups, ordinal, status)),
  );
  const before = counter.snapshot();
  const started = performance.now();
  for (const event of events) await handler(event);
  const elapsed = performance.now() - started;
  const calls = counter.since(before);
  const dynamoOps = Object.entries(calls)
    .filter(([name]) => name.startsWith("DynamoDB:"))
    .reduce((total, [, n]) => total + n, 0);
  return {
    jobs,
    events: events.length,
    dynamoOpsPerEvent: dynamoOps / events.length,
    msPerEvent: elapsed / events.length,
  };
}

/** A "Batch Job State Change" event for one child, shaped like AWS's (the fields the handler reads). */
function stateChange(
  batchName: string,
  groups: { offset: number; size: number; batchJobId?: string; run: number }[],
  ordinal: number,
  status: string,
) {
  const group = groups.find((g) => ordinal >= g.offset && ordinal < g.offset + g.size)!;
  const index = ordinal - group.offset;
  const now = Date.now();
  const final = status === "SUCCEEDED";
  return {
    version: "0",
    id: `${batchName}-${ordinal}-${status}`,
    "detail-type": "Batch Job State Change",
    source: "aws.batch",
    time: new Date(now).toISOString(),
    detail: {
      jobId: group.size > 1 ? `${group.batchJobId}:${index}` : group.batchJobId,
      jobName: batchName,
      status,
      statusReason: final ? "Essential container in task exited" : undefined,
      startedAt: status === "RUNNABLE" ? undefined : now - 1000,
      stoppedAt: final ? now : undefined,
      attempts: final ? [{ startedAt: now - 1000, stoppedAt: now, container: { exitCode: 0 } }] : [],
      parameters: {
        [PARAM_BATCH]: batchName,
        [PARAM_OFFSET]: String(group.offset),
        [PARAM_RUN]: String(group.run),
      },
      arrayProperties: group.size > 1 ? { index, statusSummary: {} } : undefined,
    },
  };
}
