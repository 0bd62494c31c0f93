import type { JobEntry } from "../domain/job-state.js";
import { componentOfBatch } from "../domain/names.js";
import { isFinal } from "../domain/status.js";
import { jobStatusChangeOf } from "../notify/event-details.js";
import { type EntryChange, type EntryOutcome, writeEntriesWithRetry } from "../store/entry-writes.js";
import { SHARD_SIZE, shardOf } from "../store/job-store.js";
import { trackShardPhase } from "./batch-status.js";
import { checkCanary } from "./canary.js";
import type { BatchDeps, ReadDeps } from "./deps.js";
import { type JobEvents, keepBounded, mergeOutbox, publishJobEvents, toPending } from "./job-outbox.js";
import { KeyedLock } from "./keyed-lock.js";

export type { EntryChange, EntryOutcome } from "../store/entry-writes.js";

export interface ShardChange {
  slot: number;
  change: EntryChange;
  /**
   * For a change that turns out to be a no-op: whether the job's last status change is published again
   * because the entry is exactly what this change would have made. That is how an SQS redelivery (after a
   * failed publish, or a crash between recording and publishing) still delivers the event; see
   * batch-events-handler.ts.
   */
  republish?: (entry: JobEntry) => boolean;
  /** Carried into the product event of the change; default: the invocation's. */
  correlationId?: string;
}

export interface ShardUpdateOptions {
  /**
   * For changes the scheduler makes itself (a stop before submission, a deadline, a reconciler repair):
   * their events go into the entries' outbox in the same write and leave it once published, so an event
   * survives a crash of the caller (the reconciler publishes what is left). Changes recorded from AWS
   * Batch events do without: the event's SQS message is their outbox (see batch-events-handler.ts).
   */
  outboxFirst?: boolean;
  /**
   * The changes are observations of AWS Batch: a status-only one (PENDING to RUNNING) is written
   * to the shard's index alone, the job's item lagging behind it (lib/domain/index-state.ts).
   */
  indexOnly?: boolean;
  /** With `indexOnly`: some change is an end, which needs the job's item (and so the index read first). */
  readIndex?: boolean;
}

export interface ShardUpdate {
  outcomes: EntryOutcome[];
  /**
   * Some product events could not be published. They are in the entries' outboxes (published by the
   * next change of the job, a redelivery, or the reconciler) unless even that write failed.
   */
  unpublished: boolean;
  /**
   * Jobs these changes ended, when dependents wait for single jobs of the shard (their marks, from the
   * shard's index): the events path judges those dependents (lib/service/dependencies.ts).
   */
  ended?: { ordinal: number; status: string }[];
  dependents?: string[];
}

/** Read-modify-writes of one shard are serialised within the process (see KeyedLock). */
const shardLocks = new KeyedLock();

const DAY_SECONDS = 86_400;

/**
 * Epoch seconds after which DynamoDB may delete a job item created now: the component's maxAgeDays
 * (and a day) from now, never before the batch's own record (created earlier with the same rule).
 */
function ttlOfNewItems(deps: ReadDeps, batchName: string): number | undefined {
  const component = deps.runtime.components.find(
    (candidate) => candidate.name === componentOfBatch(batchName),
  );
  if (!component) return undefined;
  return Math.ceil(deps.now() / 1000) + (component.retention.maxAgeDays + 1) * DAY_SECONDS;
}

/**
 * Read-modify-write of one job's entry with optimistic concurrency: one read of the job's item and one
 * conditional write of it (and of its shard's small index when its status moves), whatever the batch
 * size. Used for the scheduler's own changes, so their events go through the entry's outbox.
 */
export async function writeEntryWithRetry(
  deps: BatchDeps,
  batchName: string,
  ordinal: number,
  change: EntryChange,
): Promise<EntryOutcome> {
  const { shard, slot } = shardOf(ordinal);
  const { outcomes } = await updateShard(deps, batchName, shard, [{ slot, change }], { outboxFirst: true });
  return outcomes[0]!;
}

/**
 * Applies changes to jobs of one shard (in the given order; a slot may appear more than once): one read
 * of those jobs (by key, or one Query of the shard for many), then a conditional write per job changed
 * and one write of the shard's index; a job whose write lost to a concurrent change is read and changed
 * again. Then publishes the product events of the status changes it made (and of any the jobs still
 * had in their outbox). Returns an outcome per change.
 *
 * DynamoDB cost per job changed: its item (about 1 KB: 1 WCU) and the shard's index (about 1 KB: 1 WCU,
 * 2 while many of its jobs run; once per write however many jobs of the shard changed, none when no
 * status moved), plus a write to the batch's tracker when the shard's phase flips (a few times per
 * shard). With `indexOnly`, a status-only change costs only its share of the index write.
 */
export function updateShard(
  deps: BatchDeps,
  batchName: string,
  shard: number,
  changes: ShardChange[],
  options: ShardUpdateOptions = {},
): Promise<ShardUpdate> {
  return shardLocks.run(`${batchName}#${shard}`, () =>
    applyToShard(deps, batchName, shard, changes, options),
  );
}

async function applyToShard(
  deps: BatchDeps,
  batchName: string,
  shard: number,
  changes: ShardChange[],
  options: ShardUpdateOptions,
): Promise<ShardUpdate> {
  const ordinalOf = (slot: number) => shard * SHARD_SIZE + slot;
  // The correlation id of a job's change: that of the last change applied to it.
  const correlation = new Map<number, string | undefined>();
  const outboxFirst = Boolean(options.outboxFirst && deps.events);
  const ttl = ttlOfNewItems(deps, batchName);
  const written = await writeEntriesWithRetry(deps.store, {
    batchName,
    shard,
    ttl,
    indexOnly: options.indexOnly === true && !outboxFirst,
    readIndex: options.readIndex,
    changes: changes.map(({ slot, change, correlationId }) => ({
      slot,
      change: (entry: JobEntry) => {
        const next = change(entry);
        if (next) correlation.set(slot, correlationId ?? deps.correlationId);
        return next;
      },
    })),
    finish: (slot, before, after) => {
      if (after.status === before.status) return after;
      const next: JobEntry = { ...after, previousStatus: before.status };
      // A job with events still pending queues the new one behind them, so they go out in order.
      if (deps.events && (outboxFirst || before.outbox?.length)) {
        const event = toPending(jobStatusChangeOf(batchName, ordinalOf(slot), next, correlation.get(slot)));
        next.outbox = keepBounded(deps, batchName, slot, mergeOutbox(before.outbox, [event]));
      }
      return next;
    },
  });
  if (written.missing) return { outcomes: changes.map(() => "missing"), unpublished: false };
  const { seen, outcomes, touched } = written;
  const transitions = [...touched.values()].filter(({ before, after }) => before.status !== after.status);
  if (transitions.length > 0) deps.metrics?.count("StateTransitions", transitions.length);

  const toPublish: JobEvents[] = [];
  for (const [slot, { before, after }] of touched) {
    if (after.outbox?.length) toPublish.push({ slot, events: after.outbox, kept: true });
    else if (after.status !== before.status) {
      const event = jobStatusChangeOf(batchName, ordinalOf(slot), after, correlation.get(slot));
      toPublish.push({ slot, events: [toPending(event)], kept: false });
    }
  }
  const repaired: { slot: number; entry: JobEntry }[] = [];
  changes.forEach(({ slot, republish, correlationId }, i) => {
    if (outcomes[i] !== "unchanged" || touched.has(slot) || toPublish.some((job) => job.slot === slot))
      return;
    const entry = seen.get(slot);
    if (!entry) return;
    if (entry.outbox?.length) toPublish.push({ slot, events: entry.outbox, kept: true });
    else if (republish?.(entry)) {
      // A redelivery of a change already recorded: its index write may have been lost with its event.
      repaired.push({ slot, entry });
      const event = jobStatusChangeOf(batchName, ordinalOf(slot), entry, correlationId ?? deps.correlationId);
      toPublish.push({ slot, events: [toPending(event)], kept: false });
    }
  });
  if (repaired.length > 0) await deps.store.repairIndex(batchName, shard, repaired);
  const unpublished = await publishJobEvents(deps, batchName, shard, toPublish, ttl);
  await trackShardPhase(deps, batchName, shard, written.moves, correlation.values().next().value);
  const lastMove = written.moves[written.moves.length - 1];
  const ended = [...touched]
    .filter(([, { before, after }]) => before.status !== after.status && isFinal(after.status))
    .map(([slot, { after }]) => ({ ordinal: ordinalOf(slot), status: after.status }));
  const canaryJobs = lastMove?.canaryJobs;
  if (canaryJobs !== undefined) {
    try {
      if (ended.length > 0)
        await checkCanary(
          deps,
          batchName,
          canaryJobs,
          ended,
          correlation.values().next().value ?? deps.correlationId,
        );
    } catch (error) {
      deps.logger.error("canary check failed; the reconciler repeats it", { batchName, shard, error });
    }
  }
  return {
    outcomes,
    unpublished,
    ...(ended.length > 0 && lastMove?.dependents ? { ended, dependents: lastMove.dependents } : {}),
  };
}
