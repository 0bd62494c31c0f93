import type { EffectiveSpec } from "./effective-spec.js";
import { type Attempt, type JobEntry, KEPT_EARLIER_ATTEMPTS, type OlderAttempts } from "./job-state.js";
import { progressOf } from "./status.js";

/**
 * Platform retries (Spot reclaim, host terminated) do not spend the job's backoffLimit (OpenPAI's
 * retryDetails separate them) but are capped so a broken environment cannot loop forever.
 */
export const MAX_PLATFORM_RETRIES = 10;

type Action = "FailJob" | "Ignore" | "Count";

/** Radix failurePolicy: the first rule whose exit codes match decides; exit code 0 never matches. */
export function failurePolicyAction(
  spec: Pick<EffectiveSpec, "failurePolicy">,
  exitCode: number | undefined,
): Action {
  if (exitCode === undefined || exitCode === 0) return "Count";
  for (const rule of spec.failurePolicy?.rules ?? []) {
    const listed = rule.onExitCodes.values.includes(exitCode);
    if (rule.onExitCodes.operator === "In" ? listed : !listed) return rule.action as Action;
  }
  return "Count";
}

export interface FailureTally {
  /** Failures that count against backoffLimit. */
  counted: number;
  platform: number;
  /** A failurePolicy rule said FailJob. */
  failJob: boolean;
}

export function tallyFailures(
  attempts: readonly Attempt[],
  spec: Pick<EffectiveSpec, "failurePolicy">,
): FailureTally {
  const tally: FailureTally = { counted: 0, platform: 0, failJob: false };
  for (const attempt of attempts) {
    if (attempt.end === undefined || attempt.exitCode === 0) continue;
    if (attempt.kind === "platform") {
      tally.platform++;
      continue;
    }
    const action = failurePolicyAction(spec, attempt.exitCode);
    if (action === "FailJob") tally.failJob = true;
    if (action === "Count") tally.counted++;
  }
  return tally;
}

/**
 * Whether a job that AWS Batch ended FAILED runs again, as a new submission (run): Kubernetes semantics,
 * a job fails once its counted failures exceed backoffLimit. Batch itself retries at most 10 attempts and
 * knows nothing of failurePolicy or platform causes, so the scheduler decides at the end of each run.
 * Returns the Batch attempts to give the next run, or undefined to let the job fail.
 */
export function nextRunAttempts(
  entry: JobEntry,
  spec: Pick<EffectiveSpec, "backoffLimit" | "failurePolicy">,
): number | undefined {
  const budgetFrom = entry.budgetFromRun ?? 1;
  const tally = tallyFailures(
    entry.attempts.filter((attempt) => attempt.run >= budgetFrom),
    spec,
  );
  // Attempts summarized out of the entry still count (those before a restart were taken out of it).
  for (const [code, count] of Object.entries(entry.older?.budgetExitCodes ?? {})) {
    const action = failurePolicyAction(spec, code === "none" ? undefined : Number(code));
    if (action === "FailJob") tally.failJob = true;
    if (action === "Count") tally.counted += count;
  }
  tally.platform += entry.older?.budgetPlatform ?? 0;
  if (tally.failJob || tally.platform > MAX_PLATFORM_RETRIES) return undefined;
  const remaining = spec.backoffLimit + 1 - tally.counted;
  if (remaining <= 0) return undefined;
  // With a failurePolicy every failure needs the scheduler's judgement: one attempt per run.
  return spec.failurePolicy ? 1 : Math.min(10, remaining);
}

/**
 * The entry of a job going back to Waiting as a new run (a retry, a restart, a priority change): the
 * last run's end is dropped, its attempts stay, and `resubmitRequested` marks the run as to be submitted.
 */
export function newRunEntry(entry: JobEntry, now: number, statusReason: string): JobEntry {
  const run = entry.run + 1;
  const { exitCode: _exit, ended: _ended, message: _message, ...rest } = entry;
  return {
    ...rest,
    ...summarizeEarlierAttempts(entry),
    v: entry.v + 1,
    status: "Waiting",
    progress: progressOf(run, "SUBMITTED", 0),
    run,
    batchStatus: "SUBMITTED",
    statusReason,
    resubmitRequested: now,
    updated: now,
  };
}

/** The entry of a job going back to Waiting for another run after a failure (retry budget left). */
export const startNextRun = (entry: JobEntry, now: number): JobEntry =>
  newRunEntry(
    entry,
    now,
    `resubmitted for retry ${entry.run} (AWS Batch attempts of the previous run were used up)`,
  );

/**
 * Keeps the last {@link KEPT_EARLIER_ATTEMPTS} attempts of the runs so far and summarizes the rest into
 * `older` (count, failures, what still counts toward the retry budget, the first failure in full).
 * Called when a new run starts, so each attempt is summarized exactly once.
 */
export function summarizeEarlierAttempts(entry: JobEntry): Pick<JobEntry, "attempts" | "older"> {
  const overflow = entry.attempts.length - KEPT_EARLIER_ATTEMPTS;
  if (overflow <= 0) return { attempts: entry.attempts, ...(entry.older ? { older: entry.older } : {}) };
  const dropped = entry.attempts.slice(0, overflow);
  const older: OlderAttempts = {
    count: 0,
    failed: 0,
    budgetExitCodes: {},
    budgetPlatform: 0,
    ...entry.older,
  };
  older.budgetExitCodes = { ...older.budgetExitCodes };
  const budgetFrom = entry.budgetFromRun ?? 1;
  for (const attempt of dropped) {
    const position = older.count;
    older.count++;
    if (attempt.end === undefined || attempt.exitCode === 0) continue;
    older.failed++;
    if (older.firstFailure === undefined) {
      older.firstFailure = attempt;
      older.firstFailureIndex = position;
    }
    if (attempt.run < budgetFrom) continue;
    if (attempt.kind === "platform") older.budgetPlatform++;
    else {
      const code = attempt.exitCode === undefined ? "none" : String(attempt.exitCode);
      older.budgetExitCodes[code] = (older.budgetExitCodes[code] ?? 0) + 1;
    }
  }
  return { attempts: entry.attempts.slice(overflow), older };
}

/** A restart's fresh budget: summarized failures no longer count (their history stays). */
export function withFreshBudget(older: OlderAttempts | undefined): OlderAttempts | undefined {
  return older && { ...older, budgetExitCodes: {}, budgetPlatform: 0 };
}
