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
   * Attempts of earlier runs beyond the last {@link KEPT_EARLIER_ATTEMPTS}, summarized so that the job's
   * item stays bounded whatever backoffLimit, restarts and reasons are (lib/domain/retry.ts).
   */
  older?: OlderAttempts;
  /**
   * With a stop asked: the last run that may still end as it ends (a run already in AWS Batch then).
   * A run after it was started anyway (its SubmitJob raced the stop) and ends Stopped, whatever it did.
   */
  stopRun?: number;
  /**
   * Product events of this job's status changes not yet known to be published, oldest first. Only
   * present after a failed publish or for changes the scheduler made itself (lib/service/entries.ts).
   */
  outbox?: PendingEvent[];
}

/** Attempts summarized out of an entry: how many, what they count for the retry budget, the first failure. */
export interface OlderAttempts {
  count: number;
  /** Of those, how many failed (exit code other than 0, or none). */
  failed: number;
  /** Failures by the job itself still counting toward the retry budget, by exit code ("none": no exit code). */
  budgetExitCodes: Record<string, number>;
  /** Platform failures still counting toward the platform retry cap. */
  budgetPlatform: number;
  /** The first failed attempt, kept in full (the one that usually says what went wrong). */
  firstFailure?: Attempt;
  /** Its position in the job's whole history (podIndex). */
  firstFailureIndex?: number;
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

/**
 * What an entry keeps, so that a job's item stays far below 64 KB whatever happens to it: every attempt
 * of the current run (AWS Batch makes at most 10 per run), the last few of earlier runs, the rest
 * summarized ({@link OlderAttempts}); reason texts cut at {@link REASON_MAX} characters (AWS allows
 * 1,024 for a container reason and 1,024 for a status reason).
 */
export const KEPT_EARLIER_ATTEMPTS = 10;
export const REASON_MAX = 256;

/** A reason text cut to {@link REASON_MAX} characters (with an ellipsis when cut). */
export function cutReason(reason: string | undefined): string | undefined {
  if (reason === undefined || reason.length <= REASON_MAX) return reason;
  return `${reason.slice(0, REASON_MAX - 1)}…`;
}

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
    reason: cutReason(attempt.reason),
    statusReason: cutReason(attempt.statusReason),
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
  return [...earlierRuns, ...thisRun];
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
    statusReason: cutReason(observation.statusReason),
    batchJobId: observation.batchJobId,
    resubmitRequested: undefined,
    attempts,
    updated: now,
    started: entry.started ?? (starts.length ? Math.min(...starts) : observation.startedAt),
  };
  if (isFinal(status)) {
    next.ended = observation.stoppedAt ?? lastAttempt?.end ?? now;
    next.exitCode = lastAttempt?.exitCode;
    next.message = cutReason(messageFor(status, observation, lastAttempt));
  }
  return stripUndefined(next);
}

/**
 * A final status set by the scheduler itself (stop or deadline before any Batch job ran). A new run
 * still being submitted is no longer wanted: `resubmitRequested` goes (else the job could never be
 * restarted: "a new run of it is already being submitted"), and the submitter, once SubmitJob answers,
 * finds the job ended and terminates what it submitted (lib/service/resubmit.ts).
 */
export function finishWithoutBatch(
  entry: JobEntry,
  status: "Stopped" | "DeadlineExceeded" | "Failed",
  now: number,
  message: string,
): JobEntry {
  return stripUndefined({
    ...entry,
    resubmitRequested: undefined,
    v: entry.v + 1,
    status,
    progress: progressOf(entry.run, "FAILED", 0),
    statusReason: cutReason(
      status === "Stopped" ? STOP_REASON : status === "DeadlineExceeded" ? DEADLINE_REASON : message,
    ),
    ended: now,
    updated: now,
    message: cutReason(message),
  });
}

export const isTimeoutReason = (reason: string | undefined): boolean =>
  Boolean(reason?.startsWith(BATCH_TIMEOUT_REASON));

export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
