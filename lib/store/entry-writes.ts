import type { JobEntry } from "../domain/job-state.js";
import type { JobStore, ShardWriteResult } from "./job-store.js";

/** Conditional writes lost to a concurrent change are re-read and retried this many times. */
export const MAX_WRITE_ATTEMPTS = 8;

export type EntryOutcome = "applied" | "unchanged" | "missing";

/** A change of one job's entry: the next entry, or undefined to leave it as it is. */
export type EntryChange = (entry: JobEntry) => JobEntry | undefined;

export interface EntryWrites {
  /** The entries as last read (for changes that turned out to be no-ops). */
  seen: Map<number, JobEntry>;
  outcomes: EntryOutcome[];
  /** Entries written: as read, and as written. */
  touched: Map<number, { before: JobEntry; after: JobEntry }>;
  /** Counts of the shard before and after each write that moved its index. */
  moves: NonNullable<ShardWriteResult["counts"]>[];
  missing: boolean;
}

export interface EntryWriteRequest {
  batchName: string;
  shard: number;
  changes: { slot: number; change: EntryChange }[];
  /** Epoch seconds after which DynamoDB may delete the items written (their component's retention). */
  ttl: number | undefined;
  /** Sees each touched entry before and after its changes and may add to it (previous status, outbox). */
  finish?: (slot: number, before: JobEntry, after: JobEntry) => JobEntry;
}

/**
 * The compare-and-swap loop on jobs' items: read the jobs, apply the changes, write each changed job
 * conditional on its version (and the shard's index forward: {@link JobStore.writeEntries}); jobs whose
 * write lost to a concurrent change are read and changed again, up to {@link MAX_WRITE_ATTEMPTS} times.
 */
export async function writeEntriesWithRetry(
  store: JobStore,
  request: EntryWriteRequest,
): Promise<EntryWrites> {
  const { batchName, shard, changes, ttl } = request;
  const finish = request.finish ?? ((_slot: number, _before: JobEntry, after: JobEntry) => after);
  const result: EntryWrites = {
    seen: new Map(),
    outcomes: changes.map(() => "unchanged"),
    touched: new Map(),
    moves: [],
    missing: false,
  };
  let pending = changes.map((change, index) => ({ ...change, index }));
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && pending.length > 0; attempt++) {
    const slots = [...new Set(pending.map((change) => change.slot))];
    const read = await store.getEntries(batchName, shard, slots);
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
    const written = await store.writeEntries({
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
