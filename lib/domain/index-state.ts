import { type Attempt, type JobEntry, stripUndefined } from "./job-state.js";
import { batchStatusOfProgress, isFinal, STORED_STATUSES, type StoredStatus } from "./status.js";

/**
 * A job's state as its shard's index holds it: its progress and status in one number that only grows
 * ({@link indexCode}), and, while an attempt of it runs, when that attempt started.
 *
 * The index is written with every status change; the job's own item only when the change carries more
 * than the index can hold. A change the index alone can hold (a "status-only" change: AWS Batch's
 * PENDING, RUNNABLE, STARTING and RUNNING, which bring no reason, exit code or finished attempt) is written to the
 * index only, and the job's item lags behind it: a reader sees the item moved forward by the index
 * ({@link throughIndex}). That is what makes a burst cheap: a shard's status-only changes of many jobs cost
 * one index write, where each job's item would cost one write per job.
 */
export interface IndexedState {
  code: number;
  /** When the attempt in progress started (RUNNING), while only the index knows. */
  start?: number;
}

/** Progress × 8 + status: grows with every status change (a job's progress never moves back). */
export const indexCode = (entry: Pick<JobEntry, "progress" | "status">): number =>
  entry.progress * 8 + STORED_STATUSES.indexOf(entry.status);
export const statusOfCode = (code: number): StoredStatus => STORED_STATUSES[code % 8] ?? "Waiting";
export const progressOfCode = (code: number): number => Math.floor(code / 8);

/** Statuses a status-only change can give: a job waiting, starting or running in AWS Batch. */
const STATUS_ONLY: ReadonlySet<StoredStatus> = new Set(["Waiting", "Active", "Running"]);

/** The attempt in progress of the job's run: opened by STARTING or RUNNING, nothing known of its end. */
const isOpen = (attempt: Attempt, run: number) =>
  attempt.run === run &&
  attempt.end === undefined &&
  attempt.exitCode === undefined &&
  attempt.reason === undefined &&
  attempt.statusReason === undefined;

/**
 * The job as a reader sees it: its item, moved forward by status-only changes only its shard's index
 * holds (when the index's code is ahead of the item's progress). An index behind the item (a crash
 * between the item's write and the index's) changes nothing: the item is the newer.
 */
export function throughIndex(item: JobEntry, indexed: IndexedState | undefined): JobEntry {
  if (!indexed || progressOfCode(indexed.code) <= item.progress) return item;
  const status = statusOfCode(indexed.code);
  const closed = item.attempts.filter((attempt) => !isOpen(attempt, item.run));
  const open = status === "Active" || status === "Running";
  return stripUndefined({
    ...item,
    status,
    progress: progressOfCode(indexed.code),
    batchStatus: batchStatusOfProgress(progressOfCode(indexed.code)),
    statusReason: undefined,
    started: item.started ?? indexed.start,
    // The index keeps no time of its own but a running attempt's start: the last change known then.
    updated: Math.max(item.updated ?? 0, indexed.start ?? 0) || undefined,
    attempts: open ? [...closed, stripUndefined({ start: indexed.start, run: item.run })] : closed,
  });
}

/**
 * Whether `next` (a change of the job whose item is `item`) can be written to the shard's index alone:
 * its status is not final, its run is the item's, no event waits in its outbox, and a reader would see
 * exactly `next` through the index ({@link throughIndex}), but for what it can do without: the version,
 * the update time, the previous status (its product event has it), a first run's Batch job id (its
 * group's array job names it) and the log stream of the attempt in progress (AWS Batch's DescribeJobs
 * names it: lib/service/running-log.ts). Returns what the index then holds.
 */
export function indexOnlyState(item: JobEntry, next: JobEntry): IndexedState | undefined {
  if (next.run !== item.run || isFinal(next.status) || !STATUS_ONLY.has(next.status)) return undefined;
  if (item.outbox?.length || next.outbox?.length) return undefined;
  const code = indexCode(next);
  if (progressOfCode(code) <= item.progress) return undefined;
  const last = next.attempts.at(-1);
  const start = last && isOpen(last, next.run) ? last.start : undefined;
  const indexed: IndexedState = start === undefined ? { code } : { code, start };
  return sameState(throughIndex(item, indexed), next) ? indexed : undefined;
}

function comparable(entry: JobEntry): unknown {
  const { v: _v, updated: _updated, previousStatus: _previous, ...rest } = entry;
  return {
    ...rest,
    batchJobId: entry.run === 1 ? undefined : entry.batchJobId,
    attempts: entry.attempts.map((attempt) =>
      isOpen(attempt, entry.run) ? { ...attempt, log: undefined } : attempt,
    ),
  };
}

const sameState = (a: JobEntry, b: JobEntry) => canonical(comparable(a)) === canonical(comparable(b));

/** JSON with sorted keys and without undefined members: equal values give equal texts. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, member: unknown) =>
    member && typeof member === "object" && !Array.isArray(member)
      ? Object.fromEntries(Object.entries(member).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : member,
  );
}
