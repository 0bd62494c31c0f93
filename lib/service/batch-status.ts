import { batchStatusOf } from "../domain/aggregate.js";
import { batchPhaseOf, membershipOf, type Phase, phaseOf } from "../domain/batch-phase.js";
import { batchStatusChangeOf } from "../notify/event-details.js";
import { type BatchStatusChange, batchEvent } from "../notify/product-events.js";
import type { EntryWrites } from "../store/entry-writes.js";
import type { BatchRecord, BatchTracker, ShardSummary } from "../store/job-store.js";
import { onDependencyEnded } from "./dependency-check.js";
import { type BatchDeps, componentSettings, type ReadDeps, type WriteDeps } from "./deps.js";
import { releaseParallelResource } from "./max-parallel.js";
import { summariesOf } from "./queries.js";
import { checkStopPolicy } from "./stop-policy.js";
import { batchFactsOf, countsOf } from "./views.js";

/**
 * Batch Status Change events without reading a batch's shards on every job change.
 *
 * Under the default rule a batch's status can only change when its phase changes (its first job leaves
 * Waiting, every job is back to Waiting, its last job ends) or a stop is asked (lib/domain/
 * batch-phase.ts). So each shard write that flips its shard's phase records that in the batch's
 * tracker (an idempotent set update, lib/store); only when the tracker's sets show the batch's phase
 * moved, or a stop was asked, are the batch's shard summaries read (one small index item per 100 jobs), its status computed (with the component's
 * batchStatusRules) and, if it changed, recorded and published. That is a few tracker writes per shard
 * and one full read per batch status change, never per job change.
 *
 * Recording is conditional on the tracker's `seq` (no status is published twice, none is skipped by a
 * race: each recorded status comes from shards read after the previous one was recorded), and the event
 * stays in the tracker until it is published: whoever finds it pending (the next sync, the reconciler)
 * publishes it again. The reconciler also repairs shard sets a crash left behind and catches changes
 * that configured batchStatusRules make within a phase (within one reconciler period).
 */

const MAX_ATTEMPTS = 8;

/** A shard's phase flipped: record its membership; sync the batch when the batch's phase moved. */
export async function onShardPhaseChange(
  deps: BatchDeps,
  batchName: string,
  shard: number,
  phase: Phase,
  correlationId?: string,
) {
  const tracker = await deps.store.markShard(batchName, shard, membershipOf(phase));
  if (tracker && needsSync(tracker)) await syncBatchStatus(deps, batchName, correlationId);
}

const trackedPhase = (tracker: BatchTracker) =>
  batchPhaseOf(tracker.startedShards.length, tracker.endedShards.length, tracker.shardCount);

const needsSync = (tracker: BatchTracker) =>
  trackedPhase(tracker) !== tracker.phase || tracker.published < tracker.seq;

async function publish(deps: WriteDeps, event: BatchStatusChange): Promise<boolean> {
  if (!deps.events) return true;
  try {
    await deps.events.publish([batchEvent(event)]);
    return true;
  } catch (error) {
    deps.metrics?.count("ProductEventFailures");
    deps.logger.warn("batch status event not published; kept for a retry", {
      batchName: event.batchName,
      sequence: event.sequence,
      error,
    });
    return false;
  }
}

/** The batch's status and phase from all its shards, and the event that would announce a change. */
function assess(deps: ReadDeps, batch: BatchRecord, shards: readonly ShardSummary[]) {
  const counts = countsOf(shards);
  const status = batchStatusOf(
    batchFactsOf(batch, counts),
    componentSettings(deps, batch.component).batchStatusRules,
  );
  const phase = phaseOf(counts, batch.size);
  const starts = shards.map((shard) => shard.started).filter((t): t is number => t !== undefined);
  const ends = shards.map((shard) => shard.ended).filter((t): t is number => t !== undefined);
  return {
    status,
    phase,
    counts,
    started: starts.length ? Math.min(...starts) : undefined,
    ended: phase === "ended" && ends.length ? Math.max(...ends) : undefined,
  };
}

/**
 * Brings the tracker up to date with the batch: publishes a pending event, then, if the batch's status
 * or phase differs from the recorded one, records the new one and publishes its event. Returns whether
 * the batch's status is recorded and published (false: something is left for a later sync).
 */
export async function syncBatchStatus(
  deps: BatchDeps,
  batchName: string,
  correlationId = deps.correlationId,
): Promise<boolean> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const tracker = await deps.store.getTracker(batchName);
    if (!tracker) return true;
    if (tracker.published < tracker.seq) {
      if (tracker.last && !(await publish(deps, tracker.last))) return false;
      await deps.store.markBatchPublished(batchName, tracker.seq);
      continue;
    }
    // The batch is read after the tracker, so what is recorded below is never older than what was.
    const batch = await deps.store.getBatch(batchName);
    if (!batch) return true;
    const now = assess(deps, batch, await summariesOf(deps, batch));
    if (now.status === tracker.status && now.phase === tracker.phase) return true;
    const sequence = tracker.seq + 1;
    const event =
      now.status === tracker.status
        ? undefined
        : batchStatusChangeOf({
            batch,
            previousStatus: tracker.status,
            status: now.status,
            counts: now.counts,
            started: now.started,
            ended: now.ended,
            sequence,
            correlationId,
            now: deps.now(),
          });
    const recorded = await deps.store.recordBatchStatus(batchName, tracker.seq, {
      status: now.status,
      phase: now.phase,
      event,
    });
    if (!recorded) continue; // another sync recorded first: look again
    if (now.phase === "ended") {
      await releaseParallelResource(deps, batch);
      await onDependencyEnded(deps, batchName, { correlationId });
    }
    if (!event) return true;
    deps.logger.info("batch status changed", {
      batchName,
      previousStatus: event.previousStatus,
      status: event.status,
      sequence,
    });
    if (!(await publish(deps, event))) return false;
    await deps.store.markBatchPublished(batchName, sequence);
    return true;
  }
  return false;
}

/**
 * The reconciler's pass over a batch it has just read in full: records shard memberships the tracker
 * missed (a crash between a shard write and its tracker update), then syncs when the status, phase or a
 * pending event says so. Returns whether the batch's status is recorded and published.
 *
 * `tracker` must have been read before `shards`: a membership the tracker lacks is then one the shards
 * already had (never one a later write has changed since).
 */
export async function reconcileBatchStatus(
  deps: BatchDeps,
  batch: BatchRecord,
  shards: readonly ShardSummary[],
  trackerBefore: BatchTracker | undefined,
): Promise<boolean> {
  if (batch.batchType !== "batch" || !trackerBefore) return true;
  let tracker = trackerBefore;
  const started = new Set(tracker.startedShards);
  const ended = new Set(tracker.endedShards);
  for (const shard of shards) {
    const membership = membershipOf(phaseOf(shard.counts, shard.size));
    if (membership.started !== started.has(shard.index) || membership.ended !== ended.has(shard.index)) {
      deps.logger.warn("batch tracker missed a shard; repaired", {
        batchName: batch.name,
        shard: shard.index,
      });
      tracker = (await deps.store.markShard(batch.name, shard.index, membership)) ?? tracker;
    }
  }
  const seen = assess(deps, batch, shards);
  if (seen.status === tracker.status && seen.phase === tracker.phase && !needsSync(tracker)) return true;
  return syncBatchStatus(deps, batch.name);
}

/**
 * Tells the batch's tracker when these writes flipped the shard's phase (its first job left Waiting, or
 * its last job ended, or back). Never fails the job's change: what it misses, the reconciler repairs.
 */
export async function trackShardPhase(
  deps: BatchDeps,
  batchName: string,
  shard: number,
  moves: EntryWrites["moves"],
  correlationId: string | undefined,
) {
  if (moves.length === 0) return;
  const first = moves[0]!;
  const last = moves[moves.length - 1]!;
  if (last.batchType === "job") return;
  try {
    await checkStopPolicy(deps, batchName, shard, first, last, correlationId ?? deps.correlationId);
  } catch (error) {
    deps.logger.error("stopPolicy check failed; the reconciler repeats it", { batchName, shard, error });
  }
  const before: Phase = phaseOf(first.before, first.size);
  const after: Phase = phaseOf(last.after, last.size);
  if (before === after) return;
  try {
    await onShardPhaseChange(deps, batchName, shard, after, correlationId ?? deps.correlationId);
  } catch (error) {
    deps.logger.error("batch status tracking failed; the reconciler repairs it", { batchName, shard, error });
  }
}
