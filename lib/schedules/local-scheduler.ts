import type { Schedule } from "../config/environment.js";
import { nextRun, previousRun } from "./cron.js";
import type { ScheduledRun } from "./schedule-input.js";

export interface LocalSchedulerOptions {
  /** Every enabled component's schedules. */
  schedules: { component: string; schedule: Schedule }[];
  /** Runs one firing (lib/service/scheduled-job.ts, as the AWS function does). */
  fire: (run: ScheduledRun) => Promise<unknown>;
  /** The clock; tests pass one they move. Default Date.now. */
  now?: () => number;
  /** How often the clock is looked at; 0: only when {@link LocalScheduler.tick} is called. Default 1000 ms. */
  tickMs?: number;
  onError?: (error: unknown, run: ScheduledRun) => void;
}

/**
 * The local stack's EventBridge Scheduler: the same schedules, fired through the same use case. Each tick
 * fires every schedule whose next time has come, for the latest time that has passed (a clock that jumps
 * over several times fires once, like a Kubernetes CronJob catching up, rather than a burst). Firings of
 * one tick run one after the other, and a tick waits for the previous one.
 */
export class LocalScheduler {
  private readonly next = new Map<string, number>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LocalSchedulerOptions) {
    this.now = options.now ?? Date.now;
    const start = new Date(this.now());
    for (const { component, schedule } of options.schedules)
      this.next.set(
        this.key(component, schedule),
        nextRun(schedule.cron, schedule.timeZone, start).getTime(),
      );
    const every = options.tickMs ?? 1000;
    if (every > 0 && options.schedules.length > 0) {
      this.timer = setInterval(() => {
        void this.tick();
      }, every);
      this.timer.unref();
    }
  }

  private key(component: string, schedule: Schedule) {
    return `${component}#${schedule.name}`;
  }

  /** Fires what is due now; resolves with the firings' results once they are done. */
  tick(): Promise<unknown[]> {
    const result = this.running.then(async () => {
      const now = this.now();
      const results: unknown[] = [];
      for (const { component, schedule } of this.options.schedules) {
        const key = this.key(component, schedule);
        if (this.next.get(key)! > now) continue;
        const due = previousRun(schedule.cron, schedule.timeZone, new Date(now));
        this.next.set(key, nextRun(schedule.cron, schedule.timeZone, new Date(now)).getTime());
        const run: ScheduledRun = {
          component,
          schedule: schedule.name,
          scheduledTime: due.toISOString(),
          concurrencyPolicy: schedule.concurrencyPolicy,
          ...(schedule.payload !== undefined ? { payload: schedule.payload } : {}),
          ...(schedule.job !== undefined ? { job: schedule.job } : {}),
        };
        try {
          results.push(await this.options.fire(run));
        } catch (error) {
          this.options.onError?.(error, run);
          results.push(error);
        }
      }
      return results;
    });
    this.running = result.catch(() => undefined);
    return result;
  }

  async close() {
    clearInterval(this.timer);
    await this.running;
  }
}
