import type { JobEntry, PendingEvent } from "../domain/job-state.js";
import { componentOfBatch, jobName } from "../domain/names.js";
import type { JobStatusChange } from "../notify/product-events.js";

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
