import * as z from "zod";
import { PARAM_BATCH, PARAM_OFFSET, PARAM_RUN } from "../batch/submit-input.js";
import { applyObservation, type Observation } from "../domain/job-state.js";
import { nextRunAttempts, startNextRun } from "../domain/retry.js";
import type { ServiceDeps } from "./deps.js";
import { type EntryOutcome, writeEntryWithRetry } from "./entries.js";
import { resubmitJob } from "./resubmit.js";

/**
 * The parts of a "Batch Job State Change" event the scheduler reads. Parsed leniently: AWS says
 * "make sure that your application is prepared to handle unknown properties" (batch_cwe_events.md).
 */
const attemptSchema = z.looseObject({
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  statusReason: z.string().optional(),
  container: z
    .looseObject({
      exitCode: z.number().optional(),
      reason: z.string().optional(),
      logStreamName: z.string().optional(),
    })
    .optional(),
});

export const batchJobDetailSchema = z.looseObject({
  jobId: z.string(),
  jobName: z.string().optional(),
  status: z.string(),
  statusReason: z.string().optional(),
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  attempts: z.array(attemptSchema).optional(),
  parameters: z.record(z.string(), z.string()).optional(),
  arrayProperties: z.looseObject({ index: z.number().optional(), size: z.number().optional() }).optional(),
  container: z.looseObject({ logStreamName: z.string().optional() }).optional(),
});

export const batchStateChangeEventSchema = z.looseObject({
  "detail-type": z.literal("Batch Job State Change"),
  source: z.literal("aws.batch"),
  detail: batchJobDetailSchema,
});

export type BatchJobDetail = z.infer<typeof batchJobDetailSchema>;

/** Where a Batch job's state goes: the batch, the job's ordinal, the submission run. Undefined: not ours. */
export function locate(
  detail: BatchJobDetail,
): { batchName: string; ordinal: number; run: number } | undefined {
  const batchName = detail.parameters?.[PARAM_BATCH];
  const offset = Number(detail.parameters?.[PARAM_OFFSET]);
  if (!batchName || !Number.isInteger(offset)) return undefined;
  const index = detail.arrayProperties?.index;
  // An array parent (size, no index) only summarises its children, whose own events carry the states.
  if (index === undefined && detail.arrayProperties?.size !== undefined) return undefined;
  return { batchName, ordinal: offset + (index ?? 0), run: Number(detail.parameters?.[PARAM_RUN] ?? 1) || 1 };
}

export function observationOf(detail: BatchJobDetail, run: number): Observation {
  return {
    run,
    batchJobId: detail.jobId,
    batchStatus: detail.status,
    statusReason: detail.statusReason,
    startedAt: detail.startedAt,
    stoppedAt: detail.stoppedAt,
    attempts: (detail.attempts ?? []).map((attempt) => ({
      startedAt: attempt.startedAt,
      stoppedAt: attempt.stoppedAt,
      exitCode: attempt.container?.exitCode,
      reason: attempt.container?.reason,
      statusReason: attempt.statusReason,
      logStreamName: attempt.container?.logStreamName,
    })),
    logStreamName: detail.container?.logStreamName,
  };
}

export type StateChangeOutcome = EntryOutcome | "ignored";

/**
 * Records one AWS Batch job state change: forward-only (duplicates and late events change nothing and
 * count nothing twice), one shard read and one conditional write, whatever the batch size.
 */
export async function recordStateChange(
  deps: ServiceDeps,
  detail: BatchJobDetail,
): Promise<StateChangeOutcome> {
  const target = locate(detail);
  if (!target) return "ignored";
  const { batchName, ordinal } = target;
  const observation = observationOf(detail, target.run);
  const now = deps.now();
  // Only a failure can lead to another run; only then is the job's spec (its group) needed.
  const group =
    detail.status === "FAILED"
      ? (await deps.store.listGroups(batchName)).find(
          (g) => ordinal >= g.offset && ordinal < g.offset + g.size,
        )
      : undefined;
  const withinDeadline = group
    ? now - (group.submittedAt ?? now) < group.spec.timeLimitSeconds * 1000
    : false;
  let nextRun: { run: number; attempts: number } | undefined;
  const outcome = await writeEntryWithRetry(deps, batchName, ordinal, (entry) => {
    nextRun = undefined;
    const next = applyObservation(entry, observation, now);
    if (next?.status !== "Failed" || !group || !withinDeadline) return next;
    const attempts = nextRunAttempts(next, group.spec);
    if (attempts === undefined) return next;
    const again = startNextRun(next, now);
    nextRun = { run: again.run, attempts };
    return again;
  });
  if (outcome === "applied" && nextRun && group !== undefined) {
    // A crash here leaves resubmitRequested on the job; the reconciler resumes it, checking Batch first.
    await resubmitJob(deps, batchName, ordinal, nextRun.run, nextRun.attempts, group);
  }
  return outcome;
}
