import type { StatusCounts } from "../domain/aggregate.js";
import type { JobEntry } from "../domain/job-state.js";
import { componentOfBatch, jobName } from "../domain/names.js";
import { rfc3339 } from "../service/views.js";
import type { BatchRecord } from "../store/job-store.js";
import type { BatchStatusChange, JobStatusChange } from "./product-events.js";

const timeOf = (ms: number) => rfc3339(ms) ?? new Date(ms).toISOString();

/**
 * The Job Status Change for an entry's last status change, from the entry alone (its `previousStatus`,
 * `progress` and `updated`), so that publishing it again later gives the very same event: `sequence` is
 * the entry's progress, which grows with every status change and never otherwise moves back.
 */
export function jobStatusChangeOf(
  batchName: string,
  ordinal: number,
  entry: JobEntry,
  correlationId?: string,
): JobStatusChange {
  const event: JobStatusChange = {
    component: componentOfBatch(batchName) ?? "",
    batchName,
    jobName: jobName(batchName, ordinal),
    previousStatus: entry.previousStatus ?? "Waiting",
    status: entry.status,
    attempts: entry.attempts.length,
    sequence: entry.progress,
    time: timeOf(entry.updated ?? 0),
  };
  if (entry.jobId !== undefined) event.jobId = entry.jobId;
  if (entry.exitCode !== undefined) event.exitCode = entry.exitCode;
  if (entry.message) event.message = entry.message;
  if (entry.batchStatus) event.batchJobStatus = entry.batchStatus;
  if (entry.statusReason) event.statusReason = entry.statusReason;
  if (correlationId) event.correlationId = correlationId;
  return event;
}

/** The Batch Status Change for a batch whose status moved from `previousStatus` to `status`. */
export function batchStatusChangeOf(input: {
  batch: BatchRecord;
  previousStatus: string;
  status: string;
  counts: StatusCounts;
  started?: number;
  ended?: number;
  sequence: number;
  correlationId?: string;
  now: number;
}): BatchStatusChange {
  const { batch } = input;
  const event: BatchStatusChange = {
    component: batch.component,
    batchName: batch.name,
    batchType: batch.batchType,
    previousStatus: input.previousStatus,
    status: input.status,
    counts: { ...input.counts },
    totalJobs: batch.size,
    sequence: input.sequence,
    time: timeOf(input.now),
  };
  if (batch.batchId !== undefined) event.batchId = batch.batchId;
  if (input.started !== undefined) event.started = timeOf(input.started);
  if (input.ended !== undefined) event.ended = timeOf(input.ended);
  if (input.correlationId) event.correlationId = input.correlationId;
  return event;
}
