import { randomUUID } from "node:crypto";
import { PARAM_BATCH, PARAM_OFFSET, PARAM_RUN } from "#lib/batch/submit-input.js";
import { effectiveSpec } from "#lib/domain/effective-spec.js";
import { groupJobs } from "#lib/domain/grouping.js";
import { newBatchName, randomSuffix } from "#lib/domain/names.js";
import type { LocalStack } from "#lib/local/stack.js";
import type { GroupRecord } from "#lib/store/job-store.js";

/**
 * Records a batch of `jobs` jobs of the first component as the API records it, submitted (fake Batch
 * ids), but not handed to the emulator: the events a bench then drives through the events handler stand
 * in for AWS Batch's, so nothing else writes to the batch while it is measured.
 */
export async function recordBatch(stack: LocalStack, jobs: number) {
  const name = newBatchName("compute", new Date(), randomSuffix());
  const spec = effectiveSpec(stack.runtime.components[0]!, stack.runtime);
  const groups: GroupRecord[] = groupJobs(Array.from({ length: jobs }, () => spec)).map((group) => ({
    batchName: name,
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
      name,
      component: "compute",
      batchType: "batch",
      created: Date.now(),
      size: jobs,
      groupCount: groups.length,
    },
    groups,
    [],
  );
  return { name, groups };
}

/** What differs between the state changes of one child job. */
export interface ChildChange {
  /** The event's id. */
  id: string;
  /** When it happened (ms since the epoch). */
  time: number;
  status: string;
  statusReason?: string;
  startedAt?: number;
  stoppedAt?: number;
  attempts: unknown[];
}

/**
 * A "Batch Job State Change" event for the child at `ordinal` of a recorded batch, shaped like AWS's
 * (the fields the handler reads): the child of an array job is `<array job id>:<index>`.
 */
export function childStateChange(
  batchName: string,
  groups: { offset: number; size: number; batchJobId?: string; run: number }[],
  ordinal: number,
  change: ChildChange,
) {
  const group = groups.find((g) => ordinal >= g.offset && ordinal < g.offset + g.size)!;
  const index = ordinal - group.offset;
  return {
    version: "0",
    id: change.id,
    "detail-type": "Batch Job State Change",
    source: "aws.batch",
    time: new Date(change.time).toISOString(),
    detail: {
      jobId: group.size > 1 ? `${group.batchJobId}:${index}` : group.batchJobId,
      jobName: batchName,
      status: change.status,
      statusReason: change.statusReason,
      startedAt: change.startedAt,
      stoppedAt: change.stoppedAt,
      attempts: change.attempts,
      parameters: {
        [PARAM_BATCH]: batchName,
        [PARAM_OFFSET]: String(group.offset),
        [PARAM_RUN]: String(group.run),
      },
      arrayProperties: group.size > 1 ? { index, statusSummary: {} } : undefined,
    },
  };
}
