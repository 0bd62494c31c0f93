import { PARAM_BATCH, PARAM_OFFSET, PARAM_RUN } from "../batch/submit-input.js";
import { heldByDependencies } from "../domain/dependencies.js";
import {
  currentBatchJobId,
  type Decision,
  deadlineStart,
  decide,
  isPastDeadline,
  type JobContext,
} from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { isFinal } from "../domain/status.js";
import { endCountsOf } from "../domain/stop-policy.js";
import {
  type BatchRecord,
  type BatchTracker,
  type GroupRecord,
  groupOfOrdinal,
  SHARD_SIZE,
  type ShardState,
} from "../store/job-store.js";
import { reconcileBatchStatus } from "./batch-status.js";
import { carryOutBatchStop } from "./batch-stop.js";
import { reconcileCanary } from "./canary.js";
import { reconcileDependencies } from "./dependencies.js";
import { type BatchDeps, DEFAULT_SUBMIT_LEASE_MS, type ReadDeps } from "./deps.js";
import { carryOut } from "./effects.js";
import { updateShard, writeEntryWithRetry } from "./entries.js";
import { releaseParallelResource } from "./max-parallel.js";
import { allShards, summariesOf } from "./queries.js";
import { resumeRequestedRun } from "./resubmit.js";
import { enforceRetention } from "./retention.js";
import { stopIfBreached } from "./stop-policy.js";
import { submitBatch } from "./submit.js";
import { countsOf } from "./views.js";

export interface ReconcileOptions {
  /** A job with no news for this long is checked with DescribeJobs (events may have been lost). */
  staleAfterMs: number;
  /** A submission still pending/submitting after this long is resumed. */
  resumeAfterMs: number;
}

export const DEFAULT_RECONCILE_OPTIONS: ReconcileOptions = {
  staleAfterMs: 5 * 60_000,
  resumeAfterMs: 2 * 60_000,
};

export interface ReconcileReport {
  /** Finished jobs and batches deleted by the retention rule. */
  expired: number;
  batches: number;
  described: number;
  repaired: number;
  deadlines: number;
  resumed: number;
  settled: number;
}

/**
 * The scheduled repair pass (DESIGN.md "State and events"): for every batch in the active index it
 * 1. resumes submissions that stalled (the submitter crashed or was throttled away),
 * 2. ends jobs past `timeLimitSeconds` (measured from submission, as Kubernetes' activeDeadlineSeconds;
 *    Batch's own attempt timeout cannot go below 60 s nor span retries),
 * 3. asks AWS Batch (DescribeJobs, ≤100 ids a call) about jobs with no news for a while and applies the
 *    answer through the same forward-only transition as the events handler,
 * 4. publishes product events left in job outboxes, repairs the batch's status tracker and announces
 *    a batch status change it missed (lib/service/batch-status.ts),
 * 5. takes batches whose jobs have all ended, and whose events are all published, out of the active
 *    index.
 */
export async function reconcile(
  deps: BatchDeps,
  options: ReconcileOptions = DEFAULT_RECONCILE_OPTIONS,
): Promise<ReconcileReport> {
  const report: ReconcileReport = {
    batches: 0,
    described: 0,
    repaired: 0,
    deadlines: 0,
    resumed: 0,
    settled: 0,
    expired: 0,
  };
  let nextToken: string | undefined;
  do {
    const page = await deps.store.listActiveBatches({ limit: 100, nextToken });
    for (const name of page.items) {
      report.batches++;
      try {
        await reconcileBatch(deps, name, options, report);
      } catch (error) {
        deps.logger.error("reconcile of batch failed", { batchName: name, error });
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  for (const component of deps.runtime.components) {
    for (const batchType of ["job", "batch"] as const) {
      try {
        report.expired += await enforceRetention(deps, component.name, batchType);
      } catch (error) {
        deps.logger.error("retention failed", { component: component.name, batchType, error });
      }
    }
  }
  return report;
}

/** One batch's repair, step by step (each step below is one of the numbered ones of {@link reconcile}). */
async function reconcileBatch(
  deps: BatchDeps,
  name: string,
  options: ReconcileOptions,
  report: ReconcileReport,
) {
  const batch = await deps.store.getBatch(name);
  if (!batch) return;
  const now = deps.now();
  const groups = await resumeSubmission(deps, batch, options, report, now);
  // The tracker before the shards: a membership it lacks is then one the shards already had when read.
  const tracker = await deps.store.getTracker(name);
  const shards = await allShards(deps, batch);
  const { eventsLeft, statusPublished } = await repairDerivedState(deps, batch, groups, shards, tracker);
  const open = openJobsOf(shards, groups);
  if (open.length === 0) {
    // Kept in the active index until every event of it is out, so this pass is what retries them.
    if (eventsLeft || !statusPublished) return;
    await releaseParallelResource(deps, batch);
    await deps.store.markBatchSettled(name);
    report.settled++;
    return;
  }
  if (batch.stopRequested !== undefined && now - batch.stopRequested > options.resumeAfterMs) {
    // A stop whose carrying out was cut short (the background submitter crashed): done again (idempotent).
    await carryOutBatchStop(deps, batch);
    report.resumed++;
  }
  const stale = await checkOpenJobs(deps, batch, open, options, report, now);
  if (stale.length > 0) await observeStaleJobs(deps, batch, groups, stale, report, now);
}

interface OpenJob {
  ordinal: number;
  entry: JobEntry;
  group: GroupRecord;
}

/** 1. A submission still pending or submitting long after creation is resumed; returns the groups as now. */
async function resumeSubmission(
  deps: BatchDeps,
  batch: BatchRecord,
  options: ReconcileOptions,
  report: ReconcileReport,
  now: number,
): Promise<GroupRecord[]> {
  const groups = await deps.store.listGroups(batch.name);
  if (
    batch.stopRequested !== undefined ||
    !groups.some((group) => group.state === "pending" || group.state === "submitting") ||
    now - batch.created <= options.resumeAfterMs
  )
    return groups;
  await submitBatch(deps, batch.component, batch.name);
  report.resumed++;
  return deps.store.listGroups(batch.name);
}

/**
 * 4. What the events path derives and may have missed in a crash: the shards' indexes, the jobs'
 * outboxes, the canary, dependsOn and stopPolicy decisions, the batch's status and its announcement.
 */
async function repairDerivedState(
  deps: BatchDeps,
  batch: BatchRecord,
  groups: GroupRecord[],
  shards: readonly ShardState[],
  tracker: BatchTracker | undefined,
) {
  const repaired = await repairIndexes(deps, batch.name, shards);
  const eventsLeft = await publishOutboxes(deps, batch.name, shards);
  // The shards' counts as read, unless an index was just repaired (publishing moves no status).
  const summaries = repaired ? await summariesOf(deps, batch) : shards;
  await reconcileCanary(deps, batch, shards);
  await reconcileDependencies(deps, batch, groups, shards);
  if (batch.stopPolicy && batch.stopRequested === undefined && batch.batchType === "batch") {
    // What the events path missed (a crash between a shard's write and the tracker's): judged on all shards.
    await stopIfBreached(
      deps,
      batch.name,
      batch.stopPolicy,
      batch.size,
      endCountsOf(countsOf(summaries)),
      undefined,
    );
  }
  const statusPublished = await reconcileBatchStatus(deps, batch, summaries, tracker);
  return { eventsLeft, statusPublished };
}

/** The jobs not yet ended, with their groups. */
function openJobsOf(shards: readonly ShardState[], groups: GroupRecord[]): OpenJob[] {
  const open: OpenJob[] = [];
  for (const shard of shards) {
    for (const [slot, entry] of shard.entries) {
      if (isFinal(entry.status)) continue;
      const ordinal = shard.index * SHARD_SIZE + slot;
      const group = groupOfOrdinal(groups, ordinal);
      if (group) open.push({ ordinal, entry, group });
    }
  }
  return open;
}

/**
 * 2. Ends jobs past their deadline, and resumes new runs whose submitter's lease ended without them
 * showing up in AWS Batch. Returns the AWS Batch ids of jobs with no news for a while (step 3).
 */
async function checkOpenJobs(
  deps: BatchDeps,
  batch: BatchRecord,
  open: OpenJob[],
  options: ReconcileOptions,
  report: ReconcileReport,
  now: number,
): Promise<string[]> {
  const stale: string[] = [];
  for (const job of open) {
    // Held by its dependencies: its time limit starts when it is submitted, not while it waits.
    if (heldByDependencies(batch, job.entry)) continue;
    const context = { group: job.group, batchCreated: batch.created };
    const currentId = currentBatchJobId(job.group, job.ordinal, job.entry);
    if (isPastDeadline(job.entry, context, now)) {
      await endPastDeadline(deps, batch.name, job.ordinal, { ...context, currentBatchJobId: currentId });
      report.deadlines++;
    } else if (
      job.entry.resubmitRequested !== undefined &&
      now - job.entry.resubmitRequested >
        Math.max(options.resumeAfterMs, deps.submitLeaseMs ?? DEFAULT_SUBMIT_LEASE_MS)
    ) {
      // The resubmitter's lease ended without the new run showing up: take the lease over, then resubmit
      // (asking Batch first whether the earlier attempt went through).
      if (!(await resumeRequestedRun(deps, batch.name, job.ordinal, job.entry, job.group))) continue;
      report.resumed++;
    } else if (
      currentId &&
      now - (job.entry.updated ?? deadlineStart(job.entry, context, now)) > options.staleAfterMs
    ) {
      stale.push(currentId);
    }
  }
  return stale;
}

/**
 * 3. Asks AWS Batch about jobs with no news for a while (DescribeJobs) and applies each answer through
 * the same decision as an event (lib/domain/job-machine.ts), then carries out what it asked for.
 */
async function observeStaleJobs(
  deps: BatchDeps,
  batch: BatchRecord,
  groups: GroupRecord[],
  stale: string[],
  report: ReconcileReport,
  now: number,
) {
  const name = batch.name;
  const views = await deps.batch.describe(stale);
  report.described += views.length;
  for (const view of views) {
    const offset = Number(view.parameters?.[PARAM_OFFSET]);
    if (view.parameters?.[PARAM_BATCH] !== name || !Number.isInteger(offset)) continue;
    const ordinal = offset + (view.arrayIndex ?? 0);
    const observation = {
      run: Number(view.parameters?.[PARAM_RUN] ?? 1) || 1,
      batchJobId: view.jobId,
      batchStatus: view.status,
      statusReason: view.statusReason,
      startedAt: view.startedAt,
      stoppedAt: view.stoppedAt,
      attempts: view.attempts,
    };
    const group = groupOfOrdinal(groups, ordinal);
    let decision: Decision | undefined;
    const outcome = await writeEntryWithRetry(deps, name, ordinal, (entry) => {
      decision = decide(entry, { kind: "observe", observation }, { group, batchCreated: batch.created }, now);
      return decision.next;
    });
    if (outcome === "applied") report.repaired++;
    if (outcome !== "missing" && decision) {
      await carryOut(deps, { batchName: name, ordinal, group, leaseFrom: now }, decision.effects);
    }
  }
}

/**
 * A shard's index that disagrees with its jobs (a crash between a job's write and its index's, with no
 * later change of that job) is moved forward to them: counts are exact again.
 */
async function repairIndexes(deps: ReadDeps, name: string, shards: readonly ShardState[]) {
  let repaired = false;
  for (const shard of shards) {
    const fromJobs: Record<string, number> = {};
    for (const entry of shard.entries.values()) fromJobs[entry.status] = (fromJobs[entry.status] ?? 0) + 1;
    const statuses = new Set([...Object.keys(fromJobs), ...Object.keys(shard.counts)]);
    const agree = [...statuses].every(
      (status) => (fromJobs[status] ?? 0) === (shard.counts[status as keyof typeof shard.counts] ?? 0),
    );
    if (agree) continue;
    deps.logger.warn("shard index missed a job's change; repaired", { batchName: name, shard: shard.index });
    await deps.store.repairIndex(
      name,
      shard.index,
      [...shard.entries].map(([slot, entry]) => ({ slot, entry })),
    );
    repaired = true;
  }
  return repaired;
}

/**
 * Publishes what jobs still hold in their outbox (a failed publish, a crash of the scheduler between
 * recording its own change and publishing it): a no-op touch of those jobs publishes and clears it.
 * Returns whether some are still unpublished.
 */
async function publishOutboxes(deps: BatchDeps, name: string, shards: readonly ShardState[]) {
  let left = false;
  for (const shard of shards) {
    const slots = [...shard.entries].filter(([, entry]) => entry.outbox?.length).map(([slot]) => slot);
    if (slots.length === 0) continue;
    const { unpublished } = await updateShard(
      deps,
      name,
      shard.index,
      slots.map((slot) => ({ slot, change: () => undefined })),
    );
    left ||= unpublished;
  }
  return left;
}

/** The deadline through the state machine: its Batch job terminated, or the job ended at once. */
async function endPastDeadline(deps: BatchDeps, batchName: string, ordinal: number, context: JobContext) {
  let decision: Decision | undefined;
  await writeEntryWithRetry(deps, batchName, ordinal, (entry) => {
    decision = decide(entry, { kind: "deadline" }, context, deps.now());
    return decision.next;
  });
  if (decision) await carryOut(deps, { batchName, ordinal, leaseFrom: deps.now() }, decision.effects);
}
