import * as z from "zod";
import { attemptFacts, mainContainerOf } from "../batch/attempt-facts.js";
import { PARAM_BATCH, PARAM_OFFSET, PARAM_RUN } from "../batch/submit-input.js";
import { decide, type Effect } from "../domain/job-machine.js";
import type { JobEntry, Observation } from "../domain/job-state.js";
import { isFinalBatchStatus, progressOf } from "../domain/status.js";
import { groupOfOrdinal, shardOf } from "../store/job-store.js";
import { onJobsEnded } from "./dependencies.js";
import type { BatchDeps } from "./deps.js";
import { carryOut } from "./effects.js";
import { type EntryOutcome, updateShard } from "./entries.js";

/**
 * The parts of a "Batch Job State Change" event the scheduler reads. Parsed leniently: AWS says
 * "make sure that your application is prepared to handle unknown properties" (batch_cwe_events.md).
 */
const containerSchema = z.looseObject({
  name: z.string().optional(),
  exitCode: z.number().optional(),
  reason: z.string().optional(),
  logStreamName: z.string().optional(),
});
/** Multi-container (ecsProperties) jobs report per container under taskProperties[0].containers. */
const taskPropertiesSchema = z
  .array(z.looseObject({ containers: z.array(containerSchema).optional() }))
  .optional();

const attemptSchema = z.looseObject({
  startedAt: z.number().optional(),
  stoppedAt: z.number().optional(),
  statusReason: z.string().optional(),
  container: containerSchema.optional(),
  taskProperties: taskPropertiesSchema,
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
  container: containerSchema.optional(),
  ecsProperties: z.looseObject({ taskProperties: taskPropertiesSchema }).optional(),
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
  // An array parent only summarises its children, whose own events carry the states. A child's jobId is
  // always `<parent id>:<index>` (AWS Batch array_jobs.md), a parent's never has a colon, whether or not
  // its event carries arrayProperties.size.
  const isChild = detail.jobId.includes(":");
  if (!isChild && (detail.arrayProperties?.size !== undefined || index !== undefined)) return undefined;
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
    attempts: (detail.attempts ?? []).map(attemptFacts),
    logStreamName: mainContainerOf({
      container: detail.container,
      taskProperties: detail.ecsProperties?.taskProperties,
    })?.logStreamName,
  };
}

/** "failed": not recorded, or recorded with its product event not published; its trigger must come again. */
export type StateChangeOutcome = EntryOutcome | "ignored" | "failed";

/** One AWS Batch event to record. */
export interface StateChangeInput {
  detail: BatchJobDetail;
  /** The EventBridge event's id: the correlation id of the change (logs, product event). */
  eventId?: string;
  /**
   * The event comes again after a failed attempt (SQS ApproximateReceiveCount > 1): if the job's entry
   * is exactly what it would make, its product event is published again (that attempt may have recorded
   * the change and then failed to publish, or crashed before publishing).
   */
  redelivered?: boolean;
}

/** The entry is exactly what the observation makes: same run, same progress. */
export const isCurrent = (entry: JobEntry, observation: Observation): boolean =>
  entry.run === observation.run &&
  entry.progress === progressOf(observation.run, observation.batchStatus, observation.attempts.length);

/**
 * Records one AWS Batch job state change: forward-only (duplicates and late events change nothing and
 * count nothing twice), one shard read and one conditional write, whatever the batch size.
 */
export async function recordStateChange(
  deps: BatchDeps,
  detail: BatchJobDetail,
): Promise<StateChangeOutcome> {
  const [outcome] = await recordStateChanges(deps, [{ detail }]);
  return outcome!;
}

/**
 * Records many state changes (an SQS batch in AWS, a delivery window locally): the changes of one shard
 * are applied together with one read and one conditional write, so a burst of array-child events costs
 * fewer DynamoDB operations per event, never more. A job that failed with retry budget left goes back
 * to Waiting and is resubmitted (lib/domain/retry.ts).
 */
export async function recordStateChanges(
  deps: BatchDeps,
  inputs: StateChangeInput[],
): Promise<StateChangeOutcome[]> {
  const outcomes: StateChangeOutcome[] = inputs.map(() => "ignored");
  const byShard = new Map<
    string,
    {
      batchName: string;
      shard: number;
      items: (StateChangeInput & { index: number; ordinal: number; observation: Observation })[];
    }
  >();
  inputs.forEach((input, index) => {
    const target = locate(input.detail);
    if (!target) return;
    const { shard } = shardOf(target.ordinal);
    const key = `${target.batchName}#${shard}`;
    const bucket = byShard.get(key) ?? { batchName: target.batchName, shard, items: [] };
    bucket.items.push({
      ...input,
      index,
      ordinal: target.ordinal,
      observation: observationOf(input.detail, target.run),
    });
    byShard.set(key, bucket);
  });
  await Promise.all(
    [...byShard.values()].map(async ({ batchName, shard, items }) => {
      try {
        const now = deps.now();
        // Only a failure can lead to another run; only then are the jobs' specs (their groups) needed.
        const groups = items.some((item) => item.observation.batchStatus === "FAILED")
          ? await deps.store.listGroups(batchName)
          : [];
        // The effects decided for each change (a write lost to a concurrent one decides again: the last counts).
        const effects: Effect[][] = items.map(() => []);
        const changes = items.map(({ ordinal, observation, eventId, redelivered }, i) => ({
          slot: shardOf(ordinal).slot,
          correlationId: eventId,
          republish: redelivered ? (entry: JobEntry) => isCurrent(entry, observation) : undefined,
          change: (entry: JobEntry) => {
            const group = groupOfOrdinal(groups, ordinal);
            const decision = decide(entry, { kind: "observe", observation }, { group }, now);
            effects[i] = decision.effects;
            return decision.next;
          },
        }));
        // Status-only changes go to the shard's index alone (lib/domain/index-state.ts); an end needs the item.
        const update = await updateShard(deps, batchName, shard, changes, {
          indexOnly: true,
          readIndex: items.some(({ observation }) => isFinalBatchStatus(observation.batchStatus)),
        });
        const { outcomes: results, unpublished } = update;
        results.forEach((result, i) => {
          // An unpublished event fails its message too, so that SQS delivers it again soon.
          outcomes[items[i]!.index] = unpublished && result !== "missing" ? "failed" : result;
        });
        for (const [i, { ordinal }] of items.entries()) {
          if (results[i] === "missing" || effects[i]!.length === 0) continue;
          // A crash here leaves resubmitRequested on the job; the reconciler resumes it, checking Batch first.
          const group = groupOfOrdinal(groups, ordinal);
          await carryOut(deps, { batchName, ordinal, group, leaseFrom: now }, effects[i]!);
        }
        // Jobs that ended with dependents waiting for them (lib/service/dependencies.ts); never fails
        // the change: what it misses, the reconciler judges.
        if (update.dependents && update.ended)
          await onJobsEnded(deps, batchName, update.dependents, update.ended, items[0]?.eventId);
      } catch (error) {
        deps.logger.error("recording state changes failed", {
          batchName,
          shard,
          eventIds: items.map((item) => item.eventId),
          error,
        });
        for (const item of items) outcomes[item.index] = "failed";
      }
    }),
  );
  return outcomes;
}
