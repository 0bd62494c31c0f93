import type { JobEntry } from "../domain/job-state.js";
import { componentOfBatch } from "../domain/names.js";
import { shardOf } from "../store/job-store.js";
import type { JobChange, ServiceDeps } from "./deps.js";

/** Conditional writes lost to a concurrent change are re-read and retried this many times. */
const MAX_WRITE_ATTEMPTS = 8;

export type EntryOutcome = "applied" | "unchanged" | "missing";

/**
 * Read-modify-write of one job's entry with optimistic concurrency: `change` returns the next entry, or
 * undefined to leave it as it is. One GetItem and one conditional UpdateItem per attempt, whatever the
 * batch size; the shard's counters move in the same write.
 */
export async function writeEntryWithRetry(
  deps: ServiceDeps,
  batchName: string,
  ordinal: number,
  change: (entry: JobEntry) => JobEntry | undefined,
): Promise<EntryOutcome> {
  const { shard, slot } = shardOf(ordinal);
  for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
    const state = await deps.store.getShard(batchName, shard);
    const entry = state?.entries.get(slot);
    if (!state || !entry) return "missing";
    const next = change(entry);
    if (!next) return "unchanged";
    const written = await deps.store.writeEntry({
      batchName,
      shard,
      slot,
      next,
      expectedVersion: entry.v,
      previousStatus: entry.status,
      started:
        next.started !== undefined && (state.started === undefined || next.started < state.started)
          ? next.started
          : undefined,
      ended:
        next.ended !== undefined && (state.ended === undefined || next.ended > state.ended)
          ? next.ended
          : undefined,
    });
    if (written) {
      if (entry.status !== next.status)
        await notifyChange(deps, batchName, ordinal, entry.status, next.status);
      return "applied";
    }
  }
  throw new Error(`job ${batchName}#${ordinal} kept changing; gave up after ${MAX_WRITE_ATTEMPTS} attempts`);
}

async function notifyChange(
  deps: ServiceDeps,
  batchName: string,
  ordinal: number,
  previousStatus: string,
  status: string,
) {
  if (!deps.onJobChange) return;
  const change: JobChange = {
    component: componentOfBatch(batchName) ?? "",
    batchName,
    batchType: "batch",
    ordinal,
    previousStatus,
    status,
  };
  try {
    await deps.onJobChange(change);
  } catch (error) {
    deps.logger.error("status change listener failed", { batchName, ordinal, error });
  }
}
