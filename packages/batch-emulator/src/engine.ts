import { randomUUID } from "node:crypto";
import type { ChildTable } from "./child-table.js";
import type { EventDelivery } from "./event-delivery.js";
import { describeUnit, unitId } from "./job-detail.js";
import { jobArn, type Naming, taskIdFor } from "./paths.js";
import { type AttemptEnd, shouldRetry } from "./retry-policy.js";
import { ESSENTIAL_EXITED } from "./task-runner.js";
import {
  type AttemptRecord,
  type BatchStateChangeEvent,
  isDone,
  type JobRecord,
  type RunState,
  S,
  STATUSES,
  type Unit,
} from "./types.js";

export const HOST_TERMINATED = "Host EC2 (instance i-local) terminated.";
export const TIMEOUT_REASON = "Job attempt duration exceeded timeout";
export const ARRAY_CHILD_FAILED = "Array Child Job failed";

export interface EngineSettings {
  mode: "run" | "status-only";
  statusOnlyEvents: "all" | "terminal";
  stepDelayMs: number;
}

/**
 * The job table and its state machine (SUBMITTED -> PENDING -> RUNNABLE -> STARTING -> RUNNING ->
 * SUCCEEDED | FAILED): every transition goes through {@link JobBook.transition}, which keeps array
 * parents' status summaries in step, emits the "Batch Job State Change" event and schedules a save.
 * What drives the transitions lives elsewhere (walker.ts: timed steps; attempts.ts: processes).
 */
export class JobBook {
  readonly jobs = new Map<string, JobRecord>();
  /** Top-level jobs in submission order. */
  readonly order: JobRecord[] = [];
  seq = 0;
  closing = false;
  /** Called after a unit entered RUNNABLE through a retry, so that it gets queued again. */
  onRetry: (unit: Unit) => void = () => undefined;

  constructor(
    readonly naming: Naming,
    readonly settings: EngineSettings,
    private readonly delivery: EventDelivery,
    private readonly saveSoon: () => void,
  ) {}

  add(job: JobRecord) {
    this.jobs.set(job.jobId, job);
    this.order.push(job);
    this.seq = Math.max(this.seq, job.seq);
  }

  /** A job id or `<parent>:<index>`; undefined when unknown (AWS then just leaves it out). */
  find(id: string): Unit | undefined {
    const job = this.jobs.get(id);
    if (job) return { job, index: -1 };
    const colon = id.lastIndexOf(":");
    const parent = colon > 0 ? this.jobs.get(id.slice(0, colon)) : undefined;
    const index = Number(id.slice(colon + 1));
    if (!parent?.array || !/^\d+$/.test(id.slice(colon + 1)) || index >= parent.array.size) return undefined;
    return { job: parent, index };
  }

  code(unit: Unit): number {
    return unit.index < 0 ? STATUSES.indexOf(unit.job.status) : unit.job.array!.status[unit.index]!;
  }

  /** The mutable run state; for an array child it is created on first use. */
  runState(unit: Unit): RunState {
    return unit.index < 0 ? unit.job : unit.job.array!.extra(unit.index);
  }

  transition(unit: Unit, code: number, statusReason?: string) {
    if (this.closing) return;
    const now = Date.now();
    const { job, index } = unit;
    if (index < 0) {
      job.status = STATUSES[code]!;
      if (code === S.RUNNING) job.startedAt = now;
      if (isDone(code)) job.stoppedAt = now;
    } else job.array!.set(index, code, now);
    if (statusReason !== undefined) this.runState(unit).statusReason = statusReason;
    this.emit(unit, code);
    if (index >= 0 && isDone(code)) this.settleParent(job);
    this.saveSoon();
  }

  /** An array parent ends when all children ended: SUCCEEDED, or FAILED if any child failed. */
  settleParent(job: JobRecord) {
    const table = job.array as ChildTable;
    if (table.ended < table.size || isDone(STATUSES.indexOf(job.status))) return;
    if (!table.anyFailed) return this.transition({ job, index: -1 }, S.SUCCEEDED);
    this.transition({ job, index: -1 }, S.FAILED, job.stopReason ?? ARRAY_CHILD_FAILED);
  }

  private emit(unit: Unit, code: number) {
    if (code === S.SUBMITTED) return; // AWS: "Events aren't created for the initial job submission."
    if (unit.index >= 0 && code === S.PENDING) return; // children are created in PENDING
    if (
      this.settings.mode === "status-only" &&
      this.settings.statusOnlyEvents === "terminal" &&
      !isDone(code)
    )
      return;
    const detail = describeUnit(this.naming, unit.job, unit.index);
    const event: BatchStateChangeEvent = {
      version: "0",
      id: randomUUID(),
      "detail-type": "Batch Job State Change",
      source: "aws.batch",
      account: this.naming.accountId,
      time: new Date().toISOString(),
      region: this.naming.region,
      resources: [jobArn(this.naming, unitId(unit.job, unit.index))],
      detail,
    };
    this.delivery.push(event);
  }

  /**
   * After a failed attempt (already in `attempts`): FAILED if terminated, timed out or out of retries,
   * else back to RUNNABLE (AWS re-enters RUNNABLE for a retry).
   */
  concludeFailure(unit: Unit, attempt: AttemptRecord & AttemptEnd) {
    const state = this.runState(unit);
    if (state.isTerminated) return this.transition(unit, S.FAILED, state.stopReason ?? attempt.statusReason);
    // "If a job is terminated for exceeding the timeout duration, it isn't retried." (job_timeouts.md)
    const timedOut = attempt.statusReason === TIMEOUT_REASON;
    if (!timedOut && shouldRetry(unit.job.retryStrategy, state.attempts.length, attempt)) {
      this.transition(unit, S.RUNNABLE);
      return this.onRetry(unit);
    }
    this.transition(unit, S.FAILED, attempt.statusReason);
  }

  /** Ends an attempt: moves `current` into `attempts` and decides SUCCEEDED, a retry or FAILED. */
  endAttempt(unit: Unit, end: AttemptEnd & { containers?: AttemptRecord["containers"] }) {
    const state = this.runState(unit);
    const { job, index } = unit;
    const attempt: AttemptRecord = {
      ...(state.current ?? {
        taskId: taskIdFor(unitId(job, index), state.attempts.length + 1),
        startedAt: (index < 0 ? job.startedAt : job.array!.startedAt[index]) || undefined,
      }),
      stoppedAt: Date.now(),
      exitCode: end.exitCode,
      reason: end.reason,
      statusReason: end.statusReason,
      ...(end.containers ? { containers: end.containers } : {}),
    };
    state.attempts.push(attempt);
    state.current = undefined;
    const succeeded = end.exitCode === 0 && end.statusReason === ESSENTIAL_EXITED;
    if (succeeded && !state.isTerminated) return this.transition(unit, S.SUCCEEDED, ESSENTIAL_EXITED);
    this.concludeFailure(unit, attempt);
  }

  /** On restart: an attempt that was STARTING/RUNNING when the emulator stopped lost its host. */
  hostTerminated(unit: Unit) {
    this.endAttempt(unit, { statusReason: HOST_TERMINATED });
  }
}
