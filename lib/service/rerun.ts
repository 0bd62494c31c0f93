import { BadRequestError, NotFoundError } from "../api/errors.js";
import type { BatchStatus, JobStatus } from "../api/schemas.js";
import { decide } from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { canReprioritize, RESTARTABLE_BY_DEFAULT, restartRefusal } from "../domain/rerun.js";
import { nextRunAttempts } from "../domain/retry.js";
import { isFinal } from "../domain/status.js";
import {
  type BatchRecord,
  type GroupRecord,
  groupOfOrdinal,
  SHARD_SIZE,
  shardOf,
} from "../store/job-store.js";
import { runConcurrently } from "./concurrency.js";
import { decideShard } from "./decide-shard.js";
import type { BatchDeps } from "./deps.js";
import { updateShard, writeEntryWithRetry } from "./entries.js";
import { allShards, findBatch, findJob, getBatch, getJob } from "./queries.js";
import { submitRun } from "./resubmit.js";

/** Parallel SubmitJob calls of a restart (AWS Batch allows 50 a second per account). */
const RESUBMIT_CONCURRENCY = 4;
/** A batch restart of more jobs than this submits them in the background, not in the request. */
export const RESTART_SYNC_MAX = 200;

/**
 * Submits the new runs of restarted jobs. A submission that fails here is not lost: the job keeps
 * `resubmitRequested`, and the reconciler resumes it once the lease ends, asking Batch first.
 */
async function submitRestarted(
  deps: BatchDeps,
  batch: BatchRecord,
  restarted: { ordinal: number; entry: JobEntry }[],
) {
  const groups = await deps.store.listGroups(batch.name);
  await runConcurrently(restarted, RESUBMIT_CONCURRENCY, async ({ ordinal, entry }) => {
    const group = groupOfOrdinal(groups, ordinal);
    if (!group) return;
    try {
      const attempts = nextRunAttempts(entry, group.spec) ?? 1;
      await submitRun(deps, {
        batchName: batch.name,
        ordinal,
        run: entry.run,
        attempts,
        group,
        leaseFrom: entry.resubmitRequested!,
        priority: entry.priority,
      });
    } catch (error) {
      deps.logger.warn("restart submission interrupted; the reconciler resumes it", {
        batchName: batch.name,
        ordinal,
        error,
      });
    }
  });
}

/**
 * POST /jobs/{name}/restart: an ended job runs again as a new run of the same named job (Radix offers
 * this only in its console). Earlier attempts stay in its history; backoffLimit and timeLimitSeconds
 * count afresh from the restart.
 */
export async function restartJob(deps: BatchDeps, componentName: string, name: string): Promise<JobStatus> {
  const { batch, ordinal } = await findJob(deps, componentName, name);
  let restarted: JobEntry | undefined;
  const outcome = await writeEntryWithRetry(deps, batch.name, ordinal, (entry) => {
    const decision = decide(entry, { kind: "restart" }, {}, deps.now());
    if (decision.refusal) throw new BadRequestError(`job ${name} cannot be restarted: ${decision.refusal}`);
    restarted = decision.next;
    return restarted;
  });
  if (outcome === "missing" || !restarted) throw new NotFoundError("job", name);
  await deps.store.reopenBatch(batch, restarted.restarted!);
  await submitRestarted(deps, batch, [{ ordinal, entry: restarted }]);
  return getJob(deps, componentName, name);
}

/**
 * POST /batches/{name}/restart: reruns the batch's Failed, Stopped and DeadlineExceeded jobs (with
 * `all`, every ended job), each as a new run of the same named job; Succeeded jobs are kept as they are.
 * One conditional write per shard of 100 jobs.
 */
export async function restartBatch(
  deps: BatchDeps,
  componentName: string,
  name: string,
  options: { all?: boolean } = {},
): Promise<BatchStatus> {
  const batch = await findBatch(deps, componentName, name);
  const shards = await allShards(deps, batch);
  const wanted = (entry: JobEntry) =>
    options.all ? isFinal(entry.status) : RESTARTABLE_BY_DEFAULT.has(entry.status);
  const restarted = new Map<number, JobEntry>();
  const now = deps.now();
  await deps.store.reopenBatch(batch, now);
  for (const shard of shards) {
    const slots = [...shard.entries].filter(([, entry]) => wanted(entry) && !restartRefusal(entry));
    if (slots.length === 0) continue;
    await updateShard(
      deps,
      batch.name,
      shard.index,
      slots.map(([slot]) => ({
        slot,
        change: (entry: JobEntry) => {
          // A shard write lost to a concurrent change runs the changes again: the last run counts.
          const ordinal = shard.index * SHARD_SIZE + slot;
          restarted.delete(ordinal);
          if (!wanted(entry)) return undefined;
          const { next } = decide(entry, { kind: "restart" }, {}, now);
          if (next) restarted.set(ordinal, next);
          return next;
        },
      })),
    );
  }
  if (restarted.size === 0) {
    const which = options.all ? "ended" : "failed, stopped or past-deadline";
    throw new BadRequestError(`batch ${name} has no ${which} jobs to restart`);
  }
  deps.logger.info("batch restarted", { batchName: name, jobs: restarted.size });
  if (restarted.size > (deps.restartSyncMax ?? RESTART_SYNC_MAX)) {
    // More than the request can submit in time (SubmitJob: 50 a second per account): the background
    // submitter submits the new runs (submitRestartedRuns), the reconciler resumes what it leaves.
    await deps.submitInBackground(componentName, name, deps.correlationId);
  } else {
    await submitRestarted(
      deps,
      batch,
      [...restarted].map(([ordinal, entry]) => ({ ordinal, entry })),
    );
  }
  return getBatch(deps, componentName, name, batch.size > 1000 ? { limit: 1000 } : {});
}

/** Reprioritizes the waiting jobs of one shard; returns how many were reached. */
async function reprioritizeShard(
  deps: BatchDeps,
  batch: BatchRecord,
  shard: number,
  slots: number[],
  groups: GroupRecord[],
  priority: number,
): Promise<number> {
  // A job that started meanwhile is not cancelled (CancelJob leaves STARTING/RUNNING jobs alone) and
  // just runs; a cancelled one's FAILED event submits its next run with the new priority.
  const reached = await decideShard(deps, {
    batchName: batch.name,
    shard,
    slots,
    groups,
    input: { kind: "reprioritize", priority },
  });
  return reached.length;
}

export interface PriorityChange {
  priority: number;
}

/** PATCH /jobs/{name}: changes the priority of a waiting job (Arvados update, Run:AI priority). */
export async function changeJobPriority(
  deps: BatchDeps,
  componentName: string,
  name: string,
  change: PriorityChange,
): Promise<JobStatus> {
  const { batch, ordinal, entry } = await findJob(deps, componentName, name);
  if (entry.resubmitRequested !== undefined && entry.status === "Waiting") {
    throw new BadRequestError(`a new run of job ${name} is being submitted; change its priority in a moment`);
  }
  if (!canReprioritize(entry)) {
    throw new BadRequestError(
      `job ${name} is no longer waiting (${entry.status}); its priority cannot change`,
    );
  }
  const groups = await deps.store.listGroups(batch.name);
  const { shard, slot } = shardOf(ordinal);
  const reached = await reprioritizeShard(deps, batch, shard, [slot], groups, change.priority);
  if (reached === 0 && entry.priority !== change.priority) {
    throw new BadRequestError(`job ${name} is not in AWS Batch yet; try again in a moment`);
  }
  return getJob(deps, componentName, name);
}

/** PATCH /batches/{name}: changes the priority of the batch's waiting jobs. */
export async function changeBatchPriority(
  deps: BatchDeps,
  componentName: string,
  name: string,
  change: PriorityChange,
): Promise<BatchStatus> {
  const batch = await findBatch(deps, componentName, name);
  const shards = await allShards(deps, batch);
  const groups = await deps.store.listGroups(batch.name);
  let reached = 0;
  for (const shard of shards) {
    const slots = [...shard.entries].filter(([, entry]) => canReprioritize(entry)).map(([slot]) => slot);
    if (slots.length > 0)
      reached += await reprioritizeShard(deps, batch, shard.index, slots, groups, change.priority);
  }
  deps.logger.info("batch reprioritized", { batchName: name, priority: change.priority, jobs: reached });
  return getBatch(deps, componentName, name, batch.size > 1000 ? { limit: 1000 } : {});
}

/**
 * The background submitter's part of a batch restart: submits the new runs that restartBatch handed
 * over. A run is this one's to submit only while it is still the restart's own request
 * (`resubmitRequested` equal to `restarted`): once the reconciler took it over, or an event moved it
 * on, it is left alone, so no run is submitted twice.
 */
export async function submitRestartedRuns(deps: BatchDeps, batch: BatchRecord) {
  const shards = await allShards(deps, batch);
  const handedOver: { ordinal: number; entry: JobEntry }[] = [];
  for (const shard of shards) {
    for (const [slot, entry] of shard.entries) {
      if (entry.resubmitRequested !== undefined && entry.resubmitRequested === entry.restarted)
        handedOver.push({ ordinal: shard.index * SHARD_SIZE + slot, entry });
    }
  }
  if (handedOver.length > 0) await submitRestarted(deps, batch, handedOver);
}
