import {
  BATCH_TIMEOUT_REASON,
  DEADLINE_REASON,
  isFinal,
  progressOf,
  radixStatusFor,
  STOP_REASON,
  type StoredStatus,
} from "./status.js";

/** One attempt of a job (a Radix "pod"). Times are epoch milliseconds. */
export interface Attempt {
  start?: number;
  end?: number;
  exitCode?: number;
  reason?: string;
  statusReason?: string;
  /** Whose failure: the job's own (`user`) or the platform's (Spot reclaim, host terminated). */
  kind?: "user" | "platform";
  run: number;
  /** CloudWatch log stream of the attempt's main container (local stack: a file). */
  log?: string;
}

/** A job's stored state: one entry of a shard item (compact, since a shard holds up to 100 of them). */
export interface JobEntry {
  /** Version, bumped on every write; writes are conditional on it (optimistic concurrency). */
  v: number;
  status: StoredStatus;
  progress: number;
  jobId?: string;
  batchStatus?: string;
  statusReason?: string;
  batchJobId?: string;
  started?: number;
  ended?: number;
  updated?: number;
  exitCode?: number;
  message?: string;
  attempts: Attempt[];
  /** When a stop of this one job was asked. */
  stopRequested?: number;
  /** Submission run: 1 for the first SubmitJob, +1 for each resubmission by the scheduler. */
  run: number;
  /** Set when a new run was decided and not yet seen in AWS Batch (the reconciler resumes it). */
  resubmitRequested?: number;
  /** Scheduling priority asked after creation (PATCH); later runs are submitted with it. */
  priority?: number;
  /** When a priority change was asked; the waiting Batch job is cancelled and submitted again. */
  repriorityRequested?: number;
  /** When the job was last restarted by request (Radix `restart`). */
  restarted?: number;
  /** Runs before this one do not count against backoffLimit (a restart starts a fresh budget). */
  budgetFromRun?: number;
  /** The job's deadline (timeLimitSeconds) is measured from here when set (a restart), else from submission. */
  since?: number;
  /** The status before the last status change: the `previousStatus` of that change's product event. */
  previousStatus?: StoredStatus;
  /**
   * Product events of this job's status changes not yet known to be published, oldest first. Only
   * present after a failed publish or for changes the scheduler made itself (lib/service/entries.ts).
   */
  outbox?: PendingEvent[];
}

/** A product event kept in an entry's outbox, as it will be published (lib/notify/product-events.ts). */
export type PendingEvent = { readonly sequence: number; readonly [field: string]: unknown };

/** What AWS Batch says about one finished attempt. */
export interface AttemptFacts {
  startedAt?: number;
  stoppedAt?: number;
  exitCode?: number;
  reason?: string;
  statusReason?: string;
  logStreamName?: string;
}

/** What a "Batch Job State Change" event (or a DescribeJobs answer) says about one job. */
export interface Observation {
  run: number;
  batchJobId: string;
  batchStatus: string;
  statusReason?: string;
  startedAt?: number;
  stoppedAt?: number;
  attempts: AttemptFacts[];
  /** Log stream of the attempt in progress, when Batch already names it. */
  logStreamName?: string;
}

/** Attempts kept per job; older ones are dropped to bound the shard item (DynamoDB items ≤ 400 KB). */
export const MAX_ATTEMPTS_KEPT = 20;

/** Status reasons AWS gives when the platform, not the job, ended an attempt (Spot reclaim, host loss). */
const PLATFORM_REASONS = [
  /^Host EC2/i,
  /spot/i,
  /CannotPullContainer/i,
  /ResourceInitializationError/i,
  /^Task failed to start/i,
];
export const isPlatformFailure = (reason: string | undefined): boolean =>
  Boolean(reason) && PLATFORM_REASONS.some((pattern) => pattern.test(reason ?? ""));

export function newEntry(jobId?: string): JobEntry {
  return {
    v: 0,
    status: "Waiting",
    progress: 0,
    attempts: [],
    run: 1,
    ...(jobId === undefined ? {} : { jobId }),
  };
}

function attemptsOf(observation: Observation, previous: Attempt[]): Attempt[] {
  const earlierRuns = previous.filter((attempt) => attempt.run < observation.run);
  const thisRun: Attempt[] = observation.attempts.map((attempt) => ({
    start: attempt.startedAt,
    end: attempt.stoppedAt,
    exitCode: attempt.exitCode,
    reason: attempt.reason,
    statusReason: attempt.statusReason,
    kind:
      attempt.exitCode === undefined && isPlatformFailure(attempt.statusReason ?? attempt.reason)
        ? "platform"
        : "user",
    run: observation.run,
    log: attempt.logStreamName,
  }));
  if (observation.batchStatus === "STARTING" || observation.batchStatus === "RUNNING") {
    thisRun.push({ start: observation.startedAt, run: observation.run, log: observation.logStreamName });
  }
  return [...earlierRuns, ...thisRun].slice(-MAX_ATTEMPTS_KEPT);
}

function messageFor(status: StoredStatus, observation: Observation, lastAttempt: Attempt | undefined) {
  switch (status) {
    case "Stopped":
      return "Job was stopped";
    case "DeadlineExceeded":
      return "Job was active longer than specified deadline";
    case "Failed": {
      const detail = lastAttempt?.reason ?? observation.statusReason;
      const exit = lastAttempt?.exitCode === undefined ? "" : `exit code ${lastAttempt.exitCode}`;
      return [exit, detail].filter(Boolean).join(": ") || "Job failed";
    }
    default:
      return undefined;
  }
}

/**
 * Applies an observation if it moves the job forward; returns undefined for a duplicate or late one.
 * Forward means a greater {@link progressOf}: a later run, a final status, more finished attempts, or a
 * later status within the attempt. A final status is never left (except by a new run).
 */
export function applyObservation(
  entry: JobEntry,
  observation: Observation,
  now: number,
): JobEntry | undefined {
  if (observation.run < entry.run) return undefined;
  const finishedAttempts = observation.attempts.length;
  const progress = progressOf(observation.run, observation.batchStatus, finishedAttempts);
  if (progress <= entry.progress) return undefined;
  const status = radixStatusFor(observation.batchStatus, {
    statusReason: observation.statusReason,
    stopRequested: entry.stopRequested !== undefined,
  });
  const attempts = attemptsOf(observation, entry.attempts);
  const lastAttempt = [...attempts].reverse().find((attempt) => attempt.end !== undefined);
  const starts = attempts
    .map((attempt) => attempt.start)
    .filter((start): start is number => start !== undefined);
  const next: JobEntry = {
    ...entry,
    v: entry.v + 1,
    status,
    progress,
    run: observation.run,
    batchStatus: observation.batchStatus,
    statusReason: observation.statusReason,
    batchJobId: observation.batchJobId,
    resubmitRequested: undefined,
    attempts,
    updated: now,
    started: entry.started ?? (starts.length ? Math.min(...starts) : observation.startedAt),
  };
  if (isFinal(status)) {
    next.ended = observation.stoppedAt ?? lastAttempt?.end ?? now;
    next.exitCode = lastAttempt?.exitCode;
    next.message = messageFor(status, observation, lastAttempt);
  }
  return stripUndefined(next);
}

/** A final status set by the scheduler itself (stop or deadline before any Batch job ran). */
export function finishWithoutBatch(
  entry: JobEntry,
  status: "Stopped" | "DeadlineExceeded" | "Failed",
  now: number,
  message: string,
): JobEntry {
  return stripUndefined({
    ...entry,
    v: entry.v + 1,
    status,
    progress: progressOf(entry.run, "FAILED", 0),
    statusReason:
      status === "Stopped" ? STOP_REASON : status === "DeadlineExceeded" ? DEADLINE_REASON : message,
    ended: now,
    updated: now,
    message,
  });
}

export const isTimeoutReason = (reason: string | undefined): boolean =>
  Boolean(reason?.startsWith(BATCH_TIMEOUT_REASON));

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
