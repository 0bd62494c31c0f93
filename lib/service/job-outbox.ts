import type { JobEntry, PendingEvent } from "../domain/job-state.js";
import { componentOfBatch, jobName } from "../domain/names.js";
import { type JobStatusChange, jobEvent } from "../notify/product-events.js";
import { writeEntriesWithRetry } from "../store/entry-writes.js";
import { SHARD_SIZE } from "../store/job-store.js";
import type { ReadDeps, WriteDeps } from "./deps.js";

/**
 * A job entry's outbox: product events of its status changes not yet known to be published. Kept only
 * while needed (after a failed publish, or for a change the scheduler made itself until it is
 * published), so the normal path costs no extra write (lib/service/entries.ts).
 *
 * At most this many events are kept per job; beyond that the oldest are dropped (and logged) rather
 * than letting a long EventBridge outage grow the shard item towards DynamoDB's 400 KB limit, which
 * would stop recording the jobs' states themselves.
 */
export const OUTBOX_LIMIT = 8;

/** An event as kept in an entry: without what the entry's place gives (component, batch and job name). */
export function toPending(event: JobStatusChange): PendingEvent {
  const { component: _component, batchName: _batch, jobName: _job, ...rest } = event;
  return rest;
}

export function fromPending(batchName: string, ordinal: number, pending: PendingEvent): JobStatusChange {
  return {
    ...(pending as Omit<JobStatusChange, "component" | "batchName" | "jobName">),
    component: componentOfBatch(batchName) ?? "",
    batchName,
    jobName: jobName(batchName, ordinal),
  };
}

/** The outbox with `events` added (by sequence, without repeats, the newest OUTBOX_LIMIT kept). */
export function mergeOutbox(
  outbox: readonly PendingEvent[] | undefined,
  events: readonly PendingEvent[],
): { outbox: PendingEvent[]; dropped: number } {
  const bySequence = new Map<number, PendingEvent>();
  for (const event of [...(outbox ?? []), ...events]) bySequence.set(event.sequence, event);
  const merged = [...bySequence.values()].sort((a, b) => a.sequence - b.sequence);
  const dropped = Math.max(0, merged.length - OUTBOX_LIMIT);
  return { outbox: merged.slice(dropped), dropped };
}

/** The entry with events up to sequence `upTo` taken out of its outbox; undefined when there are none. */
export function withoutPublished(entry: JobEntry, upTo: number): JobEntry | undefined {
  if (!entry.outbox?.some((event) => event.sequence <= upTo)) return undefined;
  const rest = entry.outbox.filter((event) => event.sequence > upTo);
  const { outbox: _outbox, ...next } = entry;
  return rest.length ? { ...next, v: entry.v + 1, outbox: rest } : { ...next, v: entry.v + 1 };
}

/** Events of one job to publish, in order, and whether they are already kept in its outbox. */
export interface JobEvents {
  slot: number;
  events: PendingEvent[];
  kept: boolean;
}

/** The outbox after a merge; dropping its oldest events is logged as an error. */
export function keepBounded(
  deps: ReadDeps,
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
export async function publishJobEvents(
  deps: WriteDeps,
  batchName: string,
  shard: number,
  jobs: JobEvents[],
  ttl: number | undefined,
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
      await writeEntriesWithRetry(deps.store, {
        batchName,
        shard,
        ttl,
        changes: unkept.map(({ slot, events }) => ({
          slot,
          change: (entry: JobEntry) => {
            const merged = mergeOutbox(entry.outbox, events);
            if (merged.outbox.length === (entry.outbox?.length ?? 0)) return undefined;
            return { ...entry, v: entry.v + 1, outbox: keepBounded(deps, batchName, slot, merged) };
          },
        })),
      });
    } catch (writeError) {
      // Neither published nor kept: the caller must fail so that its trigger (an SQS message) comes again.
      deps.logger.error("product events neither published nor kept", { batchName, shard, error: writeError });
    }
    return true;
  }
  const kept = jobs.filter((job) => job.kept);
  if (kept.length > 0) {
    try {
      await writeEntriesWithRetry(deps.store, {
        batchName,
        shard,
        ttl,
        changes: kept.map(({ slot, events }) => ({
          slot,
          change: (entry: JobEntry) => withoutPublished(entry, Math.max(...events.map((e) => e.sequence))),
        })),
      });
    } catch (error) {
      // They stay in the outbox and are published again later: a repeat, which consumers drop.
      deps.logger.warn("published events not cleared from the outbox", { batchName, shard, error });
    }
  }
  return false;
}
