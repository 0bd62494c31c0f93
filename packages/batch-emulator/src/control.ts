import type { AttemptRunner } from "./attempts.js";
import type { JobBook } from "./engine.js";
import { clientError } from "./errors.js";
import type { EventDelivery } from "./event-delivery.js";
import { isDone, type JobRecord, S, type Unit } from "./types.js";
import { LIMITS } from "./validation.js";
import { EVENT_HIGH_WATER } from "./walker.js";

/**
 * CancelJob and TerminateJob. Cancel: SUBMITTED/PENDING/RUNNABLE -> FAILED; STARTING/RUNNING are left
 * alone (the call still succeeds). Terminate: also stops STARTING/RUNNING attempts. A stopped job is
 * never retried. On an array parent it applies to every child, and the parent fails once all ended.
 */
export class JobControl {
  constructor(
    private readonly book: JobBook,
    private readonly delivery: EventDelivery,
    private readonly runner: AttemptRunner | undefined,
  ) {}

  cancel(jobId: string, reason: string) {
    this.apply(jobId, reason, false);
  }

  terminate(jobId: string, reason: string) {
    this.apply(jobId, reason, true);
  }

  private apply(jobId: string, reason: string, terminate: boolean) {
    if (reason.length > LIMITS.reasonChars)
      throw clientError(`reason is longer than ${LIMITS.reasonChars} characters`);
    const unit = this.book.find(jobId);
    if (!unit) throw clientError(`Job ${jobId} does not exist`);
    if (unit.index < 0 && unit.job.array) {
      void this.stopChildren(unit.job, reason, terminate);
      return;
    }
    this.stopUnit(unit, reason, terminate);
  }

  private stopUnit(unit: Unit, reason: string, terminate: boolean) {
    const code = this.book.code(unit);
    if (isDone(code) || (!terminate && code > S.RUNNABLE)) return;
    const state = this.book.runState(unit);
    if (terminate) state.isTerminated = true;
    else state.isCancelled = true;
    state.stopReason = reason;
    if (code <= S.RUNNABLE) return this.book.transition(unit, S.FAILED, reason);
    // STARTING/RUNNING: processes get SIGTERM and the attempt ends FAILED with the reason; status-only
    // mode has no processes, so the attempt ends now.
    if (!this.runner?.stop(unit, reason)) this.book.endAttempt(unit, { statusReason: reason });
  }

  private async stopChildren(job: JobRecord, reason: string, terminate: boolean) {
    if (isDone(this.book.code({ job, index: -1 }))) return;
    if (terminate) job.isTerminated = true;
    else job.isCancelled = true;
    job.stopReason ??= reason;
    const table = job.array!;
    for (let index = 0; index < table.size; index++) {
      this.stopUnit({ job, index }, reason, terminate);
      if (index % 256 === 255) {
        await this.delivery.waitForRoom(EVENT_HIGH_WATER);
        if (this.book.closing) return;
      }
    }
    this.book.settleParent(job);
  }
}
