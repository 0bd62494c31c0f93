import { indexOnlyState, progressOfCode, statusOfCode, throughIndex } from "../domain/index-state.js";
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
  /**
   * Changes that are status-only (lib/domain/index-state.ts: AWS Batch's PENDING to RUNNING)
   * may be written to the shard's index alone. The jobs are then first read without the index (when
   * read by key: one read unit less per job), and read again with it when a change needs the job's item.
   */
  indexOnly?: boolean;
  /** With `indexOnly`: some change will need the job's item anyway (an end): read the index at once. */
  readIndex?: boolean;
}

/**
 * The compare-and-swap loop on jobs' items: read the jobs, apply the changes, write each changed job
 * conditional on its version (and the shard's index forward: {@link JobStore.writeEntries}); jobs whose
 * write lost to a concurrent change are read and changed again, up to {@link MAX_WRITE_ATTEMPTS} times.
 * With `indexOnly`, a status-only change goes to the index alone, conditional on the job's code there
 * being older (a late or repeated one is read again with the index, and then changes nothing).
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
  let withIndex = !request.indexOnly || request.readIndex === true;
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS && pending.length > 0; attempt++) {
    const slots = [...new Set(pending.map((change) => change.slot))];
    const { jobs, indexRead } = await store.readJobs(batchName, shard, slots, { withIndex });
    const current = new Map<number, JobEntry>();
    for (const [slot, { item, indexed }] of jobs) {
      const entry = throughIndex(item, indexed);
      result.seen.set(slot, entry);
      current.set(slot, entry);
    }
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
    const touched = [...original].map(([slot, before]) => {
      const after = finish(slot, before, current.get(slot)!);
      const indexOnly = request.indexOnly ? indexOnlyState(jobs.get(slot)!.item, after) : undefined;
      return { slot, before, after, indexOnly };
    });
    if (!indexRead && touched.some(({ indexOnly }) => !indexOnly)) {
      // A change the index alone cannot hold: decided again on the jobs as readers see them.
      withIndex = true;
      attempt--;
      continue;
    }
    if (touched.length === 0) return result;
    const written = await store.writeEntries({
      batchName,
      shard,
      ttl,
      entries: touched.map(({ slot, before, after, indexOnly }) => ({
        slot,
        next: after,
        expectedVersion: before.v,
        previousStatus: before.status,
        ...(indexOnly ? { indexOnly } : {}),
      })),
    });
    if (written.missing) {
      result.missing = true;
      result.outcomes = changes.map(() => "missing");
      return result;
    }
    if (written.counts) result.moves.push(written.counts);
    const lost = new Set<number>();
    touched.forEach(({ slot, before, after, indexOnly }, i) => {
      if (!written.written[i]) {
        lost.add(slot);
        return;
      }
      const seen = indexOnly ? asIndexHeld(before, after, written.previousCodes?.[i]) : { before, after };
      result.touched.set(slot, {
        before: result.touched.get(slot)?.before ?? seen.before,
        after: seen.after,
      });
    });
    pending = pending.filter((change) => lost.has(change.slot));
    // A job whose index-only write lost is read again with the index: its change was late or repeated.
    if (lost.size > 0) withIndex = true;
  }
  if (pending.length > 0) {
    throw new Error(
      `jobs of shard ${shard} of ${batchName} kept changing; gave up after ${MAX_WRITE_ATTEMPTS} attempts`,
    );
  }
  return result;
}

/**
 * An index-only change decided on the job's item alone: when the index was ahead of the item, the job
 * was in the index's status before the change (its product event's previous status), not the item's.
 */
function asIndexHeld(before: JobEntry, after: JobEntry, previousCode: number | undefined) {
  if (previousCode === undefined || progressOfCode(previousCode) <= before.progress) return { before, after };
  const status = statusOfCode(previousCode);
  return { before: { ...before, status }, after: { ...after, previousStatus: status } };
}
