import type { JobBook } from "./engine.js";
import type { EventDelivery } from "./event-delivery.js";
import { unitId } from "./job-detail.js";
import { taskIdFor } from "./paths.js";
import { ESSENTIAL_EXITED } from "./task-runner.js";
import { isDone, type JobRecord, S, type Unit } from "./types.js";

/** Children are walked in windows of this many; each step of the walk opens one more window. */
export const CHUNK = 500;
/** Bulk walks pause while more than this many events wait for delivery (bounded memory). */
export const EVENT_HIGH_WATER = 2000;

/** Queues a RUNNABLE unit for a process slot (run mode); false if it was queued or running already. */
export type Enqueue = (unit: Unit) => boolean;

/**
 * The timed part of the lifecycle: SUBMITTED -> PENDING -> RUNNABLE (-> STARTING -> RUNNING -> SUCCEEDED
 * in status-only mode), `stepDelayMs` apart. Plain jobs get one timer per step; array children are
 * walked by one loop per array, in windows of {@link CHUNK}, pacing itself on the event queue - no timer
 * and no object per child.
 */
export class Walker {
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly sleepers = new Set<() => void>();
  private readonly walking = new Map<string, Promise<void>>();
  /** Arrays whose walk must make one more pass (a child came back to RUNNABLE meanwhile). */
  private readonly rewalk = new Set<string>();

  constructor(
    private readonly book: JobBook,
    private readonly delivery: EventDelivery,
    private readonly stepDelayMs: number,
    /** Run mode: where RUNNABLE units go; undefined in status-only mode. */
    private readonly enqueue: Enqueue | undefined,
  ) {}

  /** Drives a plain job or an array parent onward from the state it is in. */
  advance(unit: Unit) {
    const { job } = unit;
    const code = this.book.code(unit);
    if (unit.index >= 0) {
      // A child back in RUNNABLE (retry, restart): queue it directly in run mode, else walk its array.
      if (this.enqueue && code === S.RUNNABLE) this.later(() => this.enqueue?.(unit));
      else this.ensureChildWalk(job);
      return;
    }
    if (job.array) {
      if (code === S.SUBMITTED)
        this.later(() => {
          if (this.book.code(unit) !== S.SUBMITTED) return;
          job.array!.promoteSubmitted(Date.now());
          this.book.transition(unit, S.PENDING);
          this.ensureChildWalk(job);
        });
      else if (code === S.PENDING) this.ensureChildWalk(job);
      return;
    }
    if (isDone(code) || (this.enqueue && code > S.RUNNABLE)) return;
    this.later(() => {
      if (this.book.code(unit) !== code) return;
      if (this.enqueue && code === S.RUNNABLE) this.enqueue(unit);
      else if (this.step(unit)) this.advance(unit);
    });
  }

  /** Stops every timer and walk loop (the emulator is closing). */
  async close() {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of this.sleepers) wake();
    await Promise.all(this.walking.values());
  }

  /** One step of a unit; false when it has nothing to do here (terminal, or running processes). */
  private step(unit: Unit): boolean {
    const code = this.book.code(unit);
    if (code === S.SUBMITTED || code === S.PENDING) {
      this.book.transition(unit, code + 1);
      return true;
    }
    if (this.enqueue) return code === S.RUNNABLE && this.enqueue(unit);
    // status-only: a child without a run state of its own gets its attempt synthesized when described.
    const tracked = unit.index < 0 || unit.job.array!.extras.has(unit.index);
    const state = tracked ? this.book.runState(unit) : undefined;
    if (code === S.RUNNABLE) {
      if (state)
        state.current = { taskId: taskIdFor(unitId(unit.job, unit.index), state.attempts.length + 1) };
      this.book.transition(unit, S.STARTING);
    } else if (code === S.STARTING) {
      if (state?.current) state.current.startedAt = Date.now();
      this.book.transition(unit, S.RUNNING);
    } else if (code === S.RUNNING) {
      if (state) this.book.endAttempt(unit, { exitCode: 0, statusReason: ESSENTIAL_EXITED });
      else this.book.transition(unit, S.SUCCEEDED);
    } else return false;
    return true;
  }

  private ensureChildWalk(job: JobRecord) {
    if (this.book.closing) return;
    if (this.walking.has(job.jobId)) {
      this.rewalk.add(job.jobId);
      return;
    }
    const walk = this.walkChildren(job).finally(() => this.walking.delete(job.jobId));
    this.walking.set(job.jobId, walk);
  }

  private async walkChildren(job: JobRecord) {
    const table = job.array!;
    let window = 0;
    let first = 0;
    for (;;) {
      this.rewalk.delete(job.jobId);
      await this.sleep();
      if (this.book.closing) return;
      window = Math.min(table.size, window + CHUNK);
      let moved = 0;
      let since = 0;
      while (first < window && isDone(table.status[first]!)) first++;
      for (let index = first; index < window; index++) {
        if (this.step({ job, index })) moved++;
        if (++since >= 256) {
          since = 0;
          await this.delivery.waitForRoom(EVENT_HIGH_WATER);
          if (this.book.closing) return;
        }
      }
      if (moved === 0 && window === table.size && !this.rewalk.has(job.jobId)) return;
      await this.delivery.waitForRoom(EVENT_HIGH_WATER);
    }
  }

  private later(action: () => void) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.book.closing) action();
    }, this.stepDelayMs);
    this.timers.add(timer);
  }

  private sleep() {
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.sleepers.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(wake, this.stepDelayMs);
      this.sleepers.add(wake);
    });
  }
}
