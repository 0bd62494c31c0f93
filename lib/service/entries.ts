import type { JobEntry } from "../domain/job-state.js";
import { componentOfBatch } from "../domain/names.js";
import { SHARD_SIZE, shardOf } from "../store/job-store.js";
import type { JobChange, ServiceDeps } from "./deps.js";
import { KeyedLock } from "./keyed-lock.js";

/** Conditional writes lost to a concurrent change are re-read and retried this many times. */
const MAX_WRITE_ATTEMPTS = 8;

export type EntryOutcome = "applied" | "unchanged" | "missing";

/** A change of one job's entry: the next entry, or undefined to leave it as it is. */
export type EntryChange = (entry: JobEntry) => JobEntry | undefined;

/** Read-modify-writes of one shard item are serialised within the process (see KeyedLock). */
const shardLocks = new KeyedLock();

/**
 * Read-modify-write of one job's entry with optimistic concurrency. One GetItem and one conditional
 * UpdateItem per attempt, whatever the batch size; the shard's counters move in the same write.
 */
export async function writeEntryWithRetry(
  deps: ServiceDeps,
  batchName: string,
  ordinal: number,
  change: EntryChange,
): Promise<EntryOutcome> {
  const { shard, slot } = shardOf(ordinal);
  const outcomes = await updateShard(deps, batchName, shard, [{ slot, change }]);
  return outcomes[0]!;
}

/**
 * Applies changes to several jobs of one shard (in the given order; a slot may appear more than once)
 * with one read and one conditional write, retried on conflict. Returns an outcome per change.
 */
export function updateShard(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  changes: { slot: number; change: EntryChange }[],
): Promise<EntryOutcome[]> {
  return shardLocks.run(`${batchName}#${shard}`, () => applyToShard(deps, batchName, shard, changes));
}

async function applyToShard(
  deps: ServiceDeps,
  batchName: string,
  shard: number,
  changes: { slot: number; change: EntryChange }[],
): Promise<EntryOutcome[]> {
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const state = await deps.store.getShard(batchName, shard);
    if (!state) return changes.map(() => "missing");
    const current = new Map(state.entries);
    const original = new Map<number, JobEntry>();
    const outcomes: EntryOutcome[] = changes.map(({ slot, change }) => {
      const entry = current.get(slot);
      if (!entry) return "missing";
      const next = change(entry);
      if (!next) return "unchanged";
      if (!original.has(slot)) original.set(slot, entry);
      current.set(slot, next);
      return "applied";
    });
    if (original.size === 0) return outcomes;
    const entries = [...original].map(([slot, before]) => ({
      slot,
      next: current.get(slot)!,
      expectedVersion: before.v,
      previousStatus: before.status,
    }));
    const starts = entries.map((e) => e.next.started).filter((t): t is number => t !== undefined);
    const ends = entries.map((e) => e.next.ended).filter((t): t is number => t !== undefined);
    const started = starts.length ? Math.min(...starts) : undefined;
    const ended = ends.length ? Math.max(...ends) : undefined;
    const written = await deps.store.writeEntries({
      batchName,
      shard,
      entries,
      started:
        started !== undefined && (state.started === undefined || started < state.started)
          ? started
          : undefined,
      ended: ended !== undefined && (state.ended === undefined || ended > state.ended) ? ended : undefined,
    });
    if (written) {
      const transitions = entries.filter((entry) => entry.previousStatus !== entry.next.status).length;
      if (transitions > 0) deps.metrics?.count("StateTransitions", transitions);
      for (const entry of entries) {
        if (entry.previousStatus !== entry.next.status) {
          await notifyChange(
            deps,
            batchName,
            shard * SHARD_SIZE + entry.slot,
            entry.previousStatus,
            entry.next,
          );
        }
      }
      return outcomes;
    }
  }
  throw new Error(
    `shard ${shard} of ${batchName} kept changing; gave up after ${MAX_WRITE_ATTEMPTS} attempts`,
  );
}

/**
 * Tells the listener (product events, webhooks) of an applied status change. Its failure is logged and
 * does not undo or fail the recorded change.
 */
async function notifyChange(
  deps: ServiceDeps,
  batchName: string,
  ordinal: number,
  previousStatus: string,
  entry: JobEntry,
) {
  if (!deps.onJobChange) return;
  const change: JobChange = {
    entry,
    component: componentOfBatch(batchName) ?? "",
    batchName,
    batchType: "batch",
    ordinal,
    previousStatus,
    status: entry.status,
  };
  try {
    await deps.onJobChange(change);
  } catch (error) {
    deps.logger.error("status change listener failed", { batchName, ordinal, error });
  }
}
