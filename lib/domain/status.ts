/** Radix job statuses (job-scheduler models/v1 JobStatus.status, plus DeadlineExceeded from the documents). */
export const JOB_STATUSES = [
  "Waiting",
  "Active",
  "Running",
  "Succeeded",
  "Failed",
  "Stopping",
  "Stopped",
  "DeadlineExceeded",
] as const;
export type JobStatusName = (typeof JOB_STATUSES)[number];

/** Statuses a job's record can hold; `Stopping` is derived at read time from a stop request. */
export const STORED_STATUSES = [
  "Waiting",
  "Active",
  "Running",
  "Succeeded",
  "Failed",
  "Stopped",
  "DeadlineExceeded",
] as const;
export type StoredStatus = (typeof STORED_STATUSES)[number];

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  "Succeeded",
  "Failed",
  "Stopped",
  "DeadlineExceeded",
]);
export const isFinal = (status: string): boolean => FINAL_STATUSES.has(status);

/** AWS Batch job statuses, in the order a job moves through them. */
/** The order statuses are shown in (CLI summaries, the console's progress bars): ended first, then running, then waiting. */
export const DISPLAY_ORDER: readonly string[] = [
  "Succeeded",
  "Failed",
  "DeadlineExceeded",
  "Stopped",
  "Stopping",
  "Running",
  "Active",
  "Waiting",
];

export const BATCH_STATUSES = [
  "SUBMITTED",
  "PENDING",
  "RUNNABLE",
  "STARTING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
] as const;
export type BatchStatusName = (typeof BATCH_STATUSES)[number];

/**
 * statusReason texts this product passes to TerminateJob/CancelJob, so that the FAILED event that follows
 * says why without a lookup (the event path reads nothing but the job's own shard).
 */
export const STOP_REASON = "Stopped by user via the job scheduler API";
export const DEADLINE_REASON = "DeadlineExceeded: the job ran past timeLimitSeconds";
/** CancelJob reason of a waiting job whose priority changed; its FAILED event starts the next run. */
export const REPRIORITIZE_REASON = "Priority changed via the job scheduler API; submitted again";
/** AWS Batch's statusReason for an attempt that ran past timeout.attemptDurationSeconds. */
export const BATCH_TIMEOUT_REASON = "Job attempt duration exceeded timeout";

/**
 * Radix status for an AWS Batch status (DESIGN.md "Mapping onto AWS"): SUBMITTED/PENDING/RUNNABLE are
 * Waiting, STARTING Active, RUNNING Running, SUCCEEDED Succeeded; FAILED is Stopped when a stop was asked,
 * DeadlineExceeded when the time limit ended it, Failed otherwise.
 */
export function radixStatusFor(
  batchStatus: string,
  context: { statusReason?: string; stopRequested?: boolean } = {},
): StoredStatus {
  switch (batchStatus) {
    case "SUBMITTED":
    case "PENDING":
    case "RUNNABLE":
      return "Waiting";
    case "STARTING":
      return "Active";
    case "RUNNING":
      return "Running";
    case "SUCCEEDED":
      return "Succeeded";
    case "FAILED": {
      const reason = context.statusReason ?? "";
      if (reason.startsWith(STOP_REASON) || context.stopRequested) return "Stopped";
      if (reason.startsWith(DEADLINE_REASON) || reason.startsWith(BATCH_TIMEOUT_REASON))
        return "DeadlineExceeded";
      return "Failed";
    }
    default:
      return "Waiting";
  }
}

/** AWS Batch's ends of a job: SUCCEEDED or FAILED. */
export const isFinalBatchStatus = (batchStatus: string): boolean =>
  batchStatus === "SUCCEEDED" || batchStatus === "FAILED";

/** The statuses a job passes through within an attempt, in order: their rank is their place here. */
const QUEUED: readonly string[] = ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"];

/**
 * A number that only grows as a job moves forward, so that a transition is applied only when its
 * progress is greater than the stored one: duplicates (equal) and late events (smaller) change nothing.
 * Order: submission run first (a resubmitted job starts a new run), then final beats everything within
 * a run, then attempts finished, then the status rank within an attempt.
 */
export function progressOf(run: number, batchStatus: string, attemptsFinished: number): number {
  const withinRun = isFinalBatchStatus(batchStatus)
    ? 999_999
    : Math.min(attemptsFinished, 99_998) * 10 + Math.max(0, QUEUED.indexOf(batchStatus));
  return run * 1_000_000 + withinRun;
}

/** The AWS Batch status within an attempt that a progress not of an end records ({@link progressOf}). */
export const batchStatusOfProgress = (progress: number): string | undefined => QUEUED[progress % 10];
