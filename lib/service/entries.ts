import { type Phase, phaseOf } from "../domain/batch-phase.js";
import type { JobEntry, PendingEvent } from "../domain/job-state.js";
import { componentOfBatch } from "../domain/names.js";
import { isFinal } from "../domain/status.js";
import { jobStatusChangeOf } from "../notify/event-details.js";
import { jobEvent } from "../notify/product-events.js";
import { SHARD_SIZE, type ShardWriteResult, shardOf } from "../store/job-store.js";
import { onShardPhaseChange } from "./batch-status.js";
import { checkCanary } from "./canary.js";
import type { ServiceDeps } from "./deps.js";
import { fromPending, mergeOutbox, toPending, withoutPublished } from "./job-outbox.js";
import { KeyedLock } from "./keyed-lock.js";
import { checkStopPolicy } from "./stop-policy.js";

/** Conditional writes lost to a concurrent change are re-read and retried this many times. */
const MAX_WRITE_ATTEMPTS = 8;

export type EntryOutcome = "applied" | "unchanged" | "missing";

/** A change of one job's entry: the next entry, or undefined to leave it as it is. */
export type EntryChange = (entry: JobEntry) => JobEntry | undefined;

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
function ttlOfNewItems(deps: ServiceDeps, batchName: string): number | undefined {
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
  deps: ServiceDeps,
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
 * DynamoDB cost per job changed: its item (about 1 KB: 1 WCU) and the shard's index (about 600 bytes:
 * 1 WCU, once per write however many jobs of the shard changed, none when no status moved), plus a
 * write to the batch's tracker when the shard's phase flips (a few times per shard).
 */
export function updateShard(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  changes: ShardChange[],
  options: ShardUpdateOptions = {},
): Promise<ShardUpdate> {
  return shardLocks.run(`${batchName}#${shard}`, () =>
    applyToShard(deps, batchName, shard, changes, options),
  );
}

interface Written {
  /** The entries as last read (for changes that turned out to be no-ops). */
  seen: Map<number, JobEntry>;
  outcomes: EntryOutcome[];
  /** Entries written: as read, and as written. */
  touched: Map<number, { before: JobEntry; after: JobEntry }>;
  /** Counts of the shard before and after each write that moved its index. */
  moves: NonNullable<ShardWriteResult["counts"]>[];
  missing: boolean;
}

/**
 * The read-modify-write itself: read the jobs, apply the changes, write each changed job conditional on
 * its version; jobs whose write lost are read and changed again. `finish` sees each touched entry
 * before and after its changes and may add to it (previous status, outbox).
 */
async function writeShard(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  changes: { slot: number; change: EntryChange }[],
  finish: (slot: number, before: JobEntry, after: JobEntry) => JobEntry = (_slot, _before, after) => after,
): Promise<Written> {
  const result: Written = {
    seen: new Map(),
    outcomes: changes.map(() => "unchanged"),
    touched: new Map(),
    moves: [],
    missing: false,
  };
  let pending = changes.map((change, index) => ({ ...change, index }));
  const ttl = ttlOfNewItems(deps, batchName);
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && pending.length > 0; attempt++) {
    const slots = [...new Set(pending.map((change) => change.slot))];
    const read = await deps.store.getEntries(batchName, shard, slots);
    for (const [slot, entry] of read) result.seen.set(slot, entry);
    const current = new Map(read);
    const original = new Map<number, JobEntry>();
    for (const { slot, change, index } of pending) {
      const entry = current.get(slot)!;
      const next = change(entry);
      if (!next) {
        result.outcomes[index] = "unchanged";
        continue;
      }
      result.outcomes[index] = "applied";
      if (!original.has(slot)) original.set(slot, entry);
      current.set(slot, next);
    }
    const touched = [...original].map(([slot, before]) => ({
      slot,
      before,
      after: finish(slot, before, current.get(slot)!),
    }));
    if (touched.length === 0) return result;
    const written = await deps.store.writeEntries({
      batchName,
      shard,
      ttl,
      entries: touched.map(({ slot, before, after }) => ({
        slot,
        next: after,
        expectedVersion: before.v,
        previousStatus: before.status,
      })),
    });
    if (written.missing) {
      result.missing = true;
      result.outcomes = changes.map(() => "missing");
      return result;
    }
    if (written.counts) result.moves.push(written.counts);
    const lost = new Set<number>();
    touched.forEach(({ slot, before, after }, i) => {
      if (written.written[i])
        result.touched.set(slot, { before: result.touched.get(slot)?.before ?? before, after });
      else lost.add(slot);
    });
    pending = pending.filter((change) => lost.has(change.slot));
  }
  if (pending.length > 0) {
    throw new Error(
      `jobs of shard ${shard} of ${batchName} kept changing; gave up after ${MAX_WRITE_ATTEMPTS} attempts`,
    );
  }
  return result;
}

/** Events of one job to publish, in order, and whether they are already kept in its outbox. */
interface JobEvents {
  slot: number;
  events: PendingEvent[];
  kept: boolean;
}

async function applyToShard(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  changes: ShardChange[],
  options: ShardUpdateOptions,
): Promise<ShardUpdate> {
  const ordinalOf = (slot: number) => shard * SHARD_SIZE + slot;
  // The correlation id of a job's change: that of the last change applied to it.
  const correlation = new Map<number, string | undefined>();
  const outboxFirst = Boolean(options.outboxFirst && deps.events);
  const written = await writeShard(
    deps,
    batchName,
    shard,
    changes.map(({ slot, change, correlationId }) => ({
      slot,
      change: (entry: JobEntry) => {
        const next = change(entry);
        if (next) correlation.set(slot, correlationId ?? deps.correlationId);
        return next;
      },
    })),
    (slot, before, after) => {
      if (after.status === before.status) return after;
      const next: JobEntry = { ...after, previousStatus: before.status };
      // A job with events still pending queues the new one behind them, so they go out in order.
      if (deps.events && (outboxFirst || before.outbox?.length)) {
        const event = toPending(jobStatusChangeOf(batchName, ordinalOf(slot), next, correlation.get(slot)));
        next.outbox = keepBounded(deps, batchName, slot, mergeOutbox(before.outbox, [event]));
      }
      return next;
    },
  );
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
  const unpublished = await publishJobEvents(deps, batchName, shard, toPublish);
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

function keepBounded(
  deps: ServiceDeps,
  batchName: string,
  slot: number,
  merged: { outbox: PendingEvent[]; dropped: number },
) {
  if (merged.dropped > 0) {
    deps.logger.error("job outbox full; oldest unpublished product events dropped", {
      batchName,
      slot,
      dropped: merged.dropped,
    });
  }
  return merged.outbox;
}

/**
 * Publishes the jobs' events (each job's in order). Once published, outboxes are emptied (a write only
 * for jobs that had one); when publishing fails, the events not yet kept go into their outboxes (a write
 * only on failure). Returns whether something stayed unpublished.
 */
async function publishJobEvents(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  jobs: JobEvents[],
): Promise<boolean> {
  if (!deps.events || jobs.length === 0) return false;
  const ordinalOf = (slot: number) => shard * SHARD_SIZE + slot;
  try {
    await deps.events.publish(
      jobs.flatMap(({ slot, events }) =>
        events.map((event) => jobEvent(fromPending(batchName, ordinalOf(slot), event))),
      ),
    );
  } catch (error) {
    deps.metrics?.count("ProductEventFailures");
    const unkept = jobs.filter((job) => !job.kept);
    deps.logger.warn("product events not published; kept for a retry", {
      batchName,
      shard,
      jobs: jobs.length,
      error,
    });
    if (unkept.length === 0) return true;
    try {
      await writeShard(
        deps,
        batchName,
        shard,
        unkept.map(({ slot, events }) => ({
          slot,
          change: (entry: JobEntry) => {
            const merged = mergeOutbox(entry.outbox, events);
            if (merged.outbox.length === (entry.outbox?.length ?? 0)) return undefined;
            return { ...entry, v: entry.v + 1, outbox: keepBounded(deps, batchName, slot, merged) };
          },
        })),
      );
    } catch (writeError) {
      // Neither published nor kept: the caller must fail so that its trigger (an SQS message) comes again.
      deps.logger.error("product events neither published nor kept", { batchName, shard, error: writeError });
    }
    return true;
  }
  const kept = jobs.filter((job) => job.kept);
  if (kept.length > 0) {
    try {
      await writeShard(
        deps,
        batchName,
        shard,
        kept.map(({ slot, events }) => ({
          slot,
          change: (entry: JobEntry) => withoutPublished(entry, Math.max(...events.map((e) => e.sequence))),
        })),
      );
    } catch (error) {
      // They stay in the outbox and are published again later: a repeat, which consumers drop.
      deps.logger.warn("published events not cleared from the outbox", { batchName, shard, error });
    }
  }
  return false;
}

/**
 * Tells the batch's tracker when these writes flipped the shard's phase (its first job left Waiting, or
 * its last job ended, or back). Never fails the job's change: what it misses, the reconciler repairs.
 */
async function trackShardPhase(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  moves: Written["moves"],
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
