import type { JobEntry, Observation } from "./job-state.js";
import { newRunEntry, withFreshBudget } from "./retry.js";
import { isFinal, REPRIORITIZE_REASON } from "./status.js";

/** Statuses a batch restart reruns unless every ended job is asked for (Radix console: failed ones). */
export const RESTARTABLE_BY_DEFAULT: ReadonlySet<string> = new Set(["Failed", "Stopped", "DeadlineExceeded"]);

/** Highest AWS Batch scheduling priority (SubmitJob schedulingPriorityOverride: 0..9999). */
export const MAX_PRIORITY = 9999;

/** Why an entry cannot be restarted, or undefined when it can. */
export function restartRefusal(entry: JobEntry): string | undefined {
  if (!isFinal(entry.status)) return `it has not ended (${entry.status})`;
  if (entry.resubmitRequested !== undefined) return "a new run of it is already being submitted";
  return undefined;
}

/**
 * A restart: the same named job goes back to Waiting as a new run, keeping its earlier attempts
 * (history), with a fresh retry budget and deadline. The caller submits the run (`resubmitRequested`
 * lets the reconciler resume it if that submission is interrupted).
 */
export function restartEntry(entry: JobEntry, now: number): JobEntry {
  const { started: _started, stopRequested: _stop, stopRun: _stopRun, ...kept } = entry;
  const next = newRunEntry(kept, now, "restarted via the job scheduler API");
  const older = withFreshBudget(next.older);
  return {
    ...next,
    ...(older ? { older } : {}),
    restarted: now,
    budgetFromRun: entry.run + 1,
    since: now,
  };
}

/** Whether a priority change can still reach the job: it is waiting in AWS Batch, no attempt started. */
export function canReprioritize(entry: JobEntry): boolean {
  if (entry.status !== "Waiting" || entry.resubmitRequested !== undefined) return false;
  return !entry.attempts.some((attempt) => attempt.run === entry.run);
}

/** Records the wanted priority; the caller then cancels the waiting Batch job (see {@link REPRIORITIZE_REASON}). */
export function requestPriority(entry: JobEntry, priority: number, now: number): JobEntry | undefined {
  if (entry.priority === priority && entry.repriorityRequested !== undefined) return undefined;
  return { ...entry, v: entry.v + 1, priority, repriorityRequested: now, updated: now };
}

/**
 * The FAILED event of a Batch job this scheduler cancelled for a priority change: the job did not run,
 * so instead of failing it goes back to Waiting as a new run, submitted with the new priority.
 */
export function isRepriorityCancel(entry: JobEntry, observation: Observation): boolean {
  return (
    observation.batchStatus === "FAILED" &&
    observation.run === entry.run &&
    entry.repriorityRequested !== undefined &&
    observation.attempts.length === 0 &&
    (observation.statusReason ?? "").startsWith(REPRIORITIZE_REASON)
  );
}

/** The entry of a reprioritized job going back to Waiting as a new run. */
export function resubmitWithPriority(entry: JobEntry, now: number): JobEntry {
  const { repriorityRequested: _asked, ...kept } = entry;
  return newRunEntry(kept, now, `submitted again with priority ${entry.priority}`);
}
