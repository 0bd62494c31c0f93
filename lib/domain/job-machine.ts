import type { EffectiveSpec } from "./effective-spec.js";
import {
  applyObservation,
  finishWithoutBatch,
  type JobEntry,
  type Observation,
  stripUndefined,
} from "./job-state.js";
import {
  canReprioritize,
  isRepriorityCancel,
  requestPriority,
  restartEntry,
  restartRefusal,
  resubmitWithPriority,
} from "./rerun.js";
import { nextRunAttempts, startNextRun } from "./retry.js";
import {
  DEADLINE_REASON,
  isFinal,
  isFinalBatchStatus,
  REPRIORITIZE_REASON,
  STOP_REASON,
  type StoredStatus,
} from "./status.js";

/**
 * The job state machine: one pure function from (entry, what happened or what is asked, now) to the next
 * entry and the effects to carry out. The events handler, the reconciler's repair and the API's stop,
 * restart and priority change all decide through it, so a rule exists once.
 */

/** What the decision may need to know beyond the entry. */
export interface JobContext {
  /** The job's submission group: its spec (retry budget, time limit) and when it was submitted. */
  group?: {
    spec: Pick<EffectiveSpec, "backoffLimit" | "failurePolicy" | "timeLimitSeconds">;
    submittedAt?: number;
  };
  /** When the batch was created: the deadline's start when nothing later is known. */
  batchCreated?: number;
  /** The AWS Batch job the job's state comes from now (undefined while it is not in Batch). */
  currentBatchJobId?: string;
  /** A stop of the job's whole batch is recorded (the batch's record). */
  batchStopRequested?: boolean;
}

export type JobInput =
  /** A "Batch Job State Change" event or a DescribeJobs answer about the job. */
  | { kind: "observe"; observation: Observation }
  /** A caller asked to stop it. */
  | { kind: "stop" }
  /** Its timeLimitSeconds passed (the reconciler's sweep). */
  | { kind: "deadline" }
  /** The scheduler ends it without AWS Batch (its group was refused, or stopped before submission). */
  | { kind: "finish"; status: "Stopped" | "Failed" | "DeadlineExceeded"; message: string }
  /** A caller asked to run it again (it has ended). */
  | { kind: "restart" }
  /** A caller asked for another priority (it is waiting in Batch). */
  | { kind: "reprioritize"; priority: number }
  /** SubmitJob answered for the scheduler's own run `run` of the job: the run is Batch job `batchJobId`. */
  | { kind: "submitted"; run: number; batchJobId: string };

export type Effect =
  /** Submit the job again as run `run` (a plain Batch job for its ordinal) with `attempts` Batch attempts. */
  | { kind: "submitRun"; run: number; attempts: number; priority?: number }
  | { kind: "terminate"; batchJobId: string; reason: string }
  | { kind: "cancel"; batchJobId: string; reason: string }
  /** Its status changed: a product event (and webhook) goes out (lib/service/entries.ts publishes it). */
  | { kind: "publish"; previousStatus: StoredStatus; status: StoredStatus };

export interface Decision {
  /** The entry to write; undefined when nothing changes. */
  next?: JobEntry;
  effects: Effect[];
  /** Why a caller's request cannot be done (the API answers 400 with it). */
  refusal?: string;
}

/**
 * When the job's time limit counts from: its restart, else its submission, else its batch's creation.
 * The one deadline rule: a job is past its deadline once `timeLimitSeconds` have passed since then (`>=`).
 */
export function deadlineStart(entry: JobEntry, context: JobContext, now: number): number {
  return entry.since ?? context.group?.submittedAt ?? context.batchCreated ?? now;
}

export function isPastDeadline(entry: JobEntry, context: JobContext, now: number): boolean {
  if (!context.group) return false;
  return now - deadlineStart(entry, context, now) >= context.group.spec.timeLimitSeconds * 1000;
}

/** What the current-run lookup needs of a submission group (lib/store/job-store.ts GroupRecord). */
export interface GroupSubmission {
  state: string;
  batchJobId?: string;
  offset: number;
  size: number;
}

/**
 * The AWS Batch job a job's state comes from now: its array child (or plain job) for the first run, the
 * scheduler's own resubmission afterwards; undefined while not submitted.
 */
export function currentBatchJobId(
  group: GroupSubmission,
  ordinal: number,
  entry: JobEntry,
): string | undefined {
  if (entry.run > 1) return entry.resubmitRequested === undefined ? entry.batchJobId : undefined;
  if (group.state !== "submitted" || !group.batchJobId) return undefined;
  return group.size > 1 ? `${group.batchJobId}:${ordinal - group.offset}` : group.batchJobId;
}

/** The last run that may end as it ends once a stop is asked: a run not yet seen in Batch started after. */
const stopRunOf = (entry: JobEntry) => (entry.resubmitRequested !== undefined ? entry.run - 1 : entry.run);

export function decide(entry: JobEntry, input: JobInput, context: JobContext, now: number): Decision {
  const decision = decideChange(entry, input, context, now);
  const { next } = decision;
  if (next && next.status !== entry.status)
    decision.effects.push({ kind: "publish", previousStatus: entry.status, status: next.status });
  return decision;
}

function decideChange(entry: JobEntry, input: JobInput, context: JobContext, now: number): Decision {
  switch (input.kind) {
    case "observe":
      return observe(entry, input.observation, context, now);
    case "stop":
      return stop(entry, context, now);
    case "deadline":
      if (isFinal(entry.status)) return { effects: [] };
      if (context.currentBatchJobId) {
        // The FAILED event that follows carries this reason and so becomes DeadlineExceeded.
        return {
          effects: [{ kind: "terminate", batchJobId: context.currentBatchJobId, reason: DEADLINE_REASON }],
        };
      }
      return {
        next: finishWithoutBatch(
          entry,
          "DeadlineExceeded",
          now,
          "Job was active longer than specified deadline",
        ),
        effects: [],
      };
    case "finish":
      if (isFinal(entry.status)) return { effects: [] };
      return { next: finishWithoutBatch(entry, input.status, now, input.message), effects: [] };
    case "restart": {
      const refusal = restartRefusal(entry);
      if (refusal) return { effects: [], refusal };
      const next = restartEntry(entry, now);
      const attempts = context.group ? (nextRunAttempts(next, context.group.spec) ?? 1) : 1;
      return {
        next,
        effects: [{ kind: "submitRun", run: next.run, attempts, ...withPriority(next) }],
      };
    }
    case "submitted":
      return submitted(entry, input.run, input.batchJobId, context, now);
    case "reprioritize": {
      if (!canReprioritize(entry) || entry.stopRequested !== undefined || !context.currentBatchJobId)
        return { effects: [] };
      const next = requestPriority(entry, input.priority, now);
      if (!next) return { effects: [] };
      // Batch cannot change a container job's priority in place: the waiting job is cancelled, and its
      // FAILED event (this reason, no attempt) submits the next run with the new priority.
      return {
        next,
        effects: [
          {
            kind: "cancel",
            batchJobId: context.currentBatchJobId,
            reason: `${REPRIORITIZE_REASON} (priority ${input.priority})`,
          },
        ],
      };
    }
  }
}

const withPriority = (entry: JobEntry) => (entry.priority === undefined ? {} : { priority: entry.priority });

/**
 * A stop: recorded on the job (so that no new run starts after it, and a run that started anyway is
 * ended), then the job's Batch job is terminated; a job not in Batch ends Stopped at once (nothing
 * would report on it). A stop asked again terminates again (harmless; it repairs a lost call).
 */
function stop(entry: JobEntry, context: JobContext, now: number): Decision {
  if (isFinal(entry.status)) return { effects: [], refusal: `it has already ended (${entry.status})` };
  const asked =
    entry.stopRequested !== undefined
      ? undefined
      : { ...entry, v: entry.v + 1, stopRequested: now, stopRun: stopRunOf(entry), updated: now };
  if (context.currentBatchJobId) {
    return {
      ...(asked ? { next: asked } : {}),
      effects: [{ kind: "terminate", batchJobId: context.currentBatchJobId, reason: STOP_REASON }],
    };
  }
  return { next: finishWithoutBatch(asked ?? entry, "Stopped", now, "Job was stopped"), effects: [] };
}

/**
 * A run the scheduler submitted itself (a retry, a restart, a priority change): its Batch job id goes onto
 * the job as soon as SubmitJob answers, so that a stop from then on terminates it directly instead of
 * waiting for its first event (late in AWS, or lost: then the reconciler asks Batch by this id). What
 * happened while SubmitJob was in flight is settled here: once a stop of the job or its batch is recorded,
 * or the job ended without Batch (a stop or deadline that knew no Batch job to end), or a later run
 * replaced this one, the run is terminated. A job still open that does not carry the stop yet (its batch
 * was stopped) is marked stopped, with this run counted as started after the stop (its events end it
 * Stopped, whatever it did). Once its id is recorded, a run counts as in Batch at a later stop: if it ends
 * before the stop's terminate reaches it, it keeps that end, as a first run does.
 */
function submitted(
  entry: JobEntry,
  run: number,
  batchJobId: string,
  context: JobContext,
  now: number,
): Decision {
  // A later run was decided meanwhile (possible only once this one's job ended without Batch: a restart
  // after a stop); nothing follows this run any more. An earlier run: not this submission's business.
  if (entry.run !== run)
    return entry.run > run
      ? { effects: [{ kind: "terminate", batchJobId, reason: STOP_REASON }] }
      : { effects: [] };
  const stopped = entry.stopRequested !== undefined || context.batchStopRequested === true;
  if (isFinal(entry.status)) {
    // Its own events ended it already (nothing to do), or a stop or deadline ended it while SubmitJob was
    // in flight and knew no Batch job to end.
    if (entry.batchJobId === batchJobId && !stopped) return { effects: [] };
    const reason = entry.status === "DeadlineExceeded" ? DEADLINE_REASON : STOP_REASON;
    return { effects: [{ kind: "terminate", batchJobId, reason }] };
  }
  const known = entry.batchJobId === batchJobId && entry.resubmitRequested === undefined;
  const recorded: JobEntry = known
    ? entry
    : { ...entry, v: entry.v + 1, batchJobId, resubmitRequested: undefined, updated: now };
  if (!stopped) return known ? { effects: [] } : { next: stripUndefined(recorded), effects: [] };
  const marked: JobEntry =
    entry.stopRequested !== undefined
      ? recorded
      : { ...recorded, v: entry.v + 1, stopRequested: now, stopRun: run - 1, updated: now };
  return {
    ...(marked === entry ? {} : { next: stripUndefined(marked) }),
    effects: [{ kind: "terminate", batchJobId, reason: STOP_REASON }],
  };
}

/**
 * An observation of AWS Batch: applied only if it moves the job forward (duplicates and late events
 * change nothing). A failure with retry budget left, or the cancellation of a priority change, becomes
 * a new run; past the deadline it ends DeadlineExceeded instead. A stop wins over every new run: once
 * asked, no new run is decided, any run still going is terminated, and a run started after the stop
 * ends Stopped whatever it did.
 */
function observe(entry: JobEntry, observation: Observation, context: JobContext, now: number): Decision {
  const effects: Effect[] = [];
  if (observation.run < entry.run) return { effects };
  const stopAsked = entry.stopRequested !== undefined;
  if (stopAsked && !isFinalBatchStatus(observation.batchStatus)) {
    effects.push({ kind: "terminate", batchJobId: observation.batchJobId, reason: STOP_REASON });
  }
  const { group } = context;
  if (!stopAsked && group && isRepriorityCancel(entry, observation)) {
    const again = resubmitWithPriority(entry, now);
    const attempts = nextRunAttempts(entry, group.spec) ?? 1;
    effects.push({ kind: "submitRun", run: again.run, attempts, ...withPriority(again) });
    return { next: again, effects };
  }
  const next = applyObservation(entry, observation, now);
  if (!next) return { effects };
  if (stopAsked) {
    if (!isFinal(next.status) || observation.run <= (entry.stopRun ?? entry.run)) return { next, effects };
    // A run that started after the stop: whatever it did, the job was stopped.
    return { next: { ...next, status: "Stopped", message: "Job was stopped" }, effects };
  }
  if (next.status !== "Failed" || !group) return { next, effects };
  const attempts = nextRunAttempts(next, group.spec);
  if (attempts === undefined) return { next, effects };
  // It would run again, but its time is up: the deadline, not the failure, ends it (Kubernetes).
  if (isPastDeadline(entry, context, now)) {
    return {
      next: { ...next, status: "DeadlineExceeded", message: "Job was active longer than specified deadline" },
      effects,
    };
  }
  const again = startNextRun(next, now);
  effects.push({ kind: "submitRun", run: again.run, attempts, ...withPriority(again) });
  return { next: again, effects };
}
