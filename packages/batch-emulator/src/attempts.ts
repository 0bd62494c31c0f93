import type { ConsumableResources } from "./consumable-resources.js";
import { type JobBook, TIMEOUT_REASON } from "./engine.js";
import { unitId } from "./job-detail.js";
import { attemptDir, logFileForStream, logStreamFor, taskIdFor } from "./paths.js";
import type { RunnableQueue } from "./scheduler.js";
import { LocalTask } from "./task-runner.js";
import { mainContainer, streamSegment } from "./task-spec.js";
import { S, type Unit } from "./types.js";

export interface AttemptRunnerOptions {
  dataDir: string;
  maxConcurrentJobs: number;
  killGraceMs: number;
  timeoutScale: number;
  env: Record<string, string>;
  resolveSecret?: (valueFrom: string) => string | undefined;
  /** Consumable resources: a unit needing one waits RUNNABLE until it has room. */
  resources?: ConsumableResources;
  /** Called when the main container's process of an attempt of the unit `id` has been spawned. */
  onMainProcess?: (id: string) => void;
}

interface Running {
  unit: Unit;
  task: LocalTask;
  timer?: NodeJS.Timeout;
}

/**
 * Run mode: takes RUNNABLE units from the scheduler while fewer than `maxConcurrentJobs` attempts are
 * STARTING/RUNNING, runs each as a {@link LocalTask}, enforces the attempt timeout and hands the result
 * to the lifecycle (SUCCEEDED, retry or FAILED). Tells the scheduler when an attempt starts and ends,
 * which a fair-share policy needs to know what each share is running.
 */
export class AttemptRunner {
  private readonly queued = new Set<string>();
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly book: JobBook,
    private readonly scheduler: RunnableQueue,
    private readonly options: AttemptRunnerOptions,
  ) {}

  get runningCount() {
    return this.running.size;
  }

  /** Queues a RUNNABLE unit; false if it is already queued or running. */
  enqueue = (unit: Unit): boolean => {
    const id = unitId(unit.job, unit.index);
    if (this.queued.has(id) || this.running.has(id) || this.book.code(unit) !== S.RUNNABLE) return false;
    this.queued.add(id);
    this.scheduler.add(unit);
    this.pump();
    return true;
  };

  /** TerminateJob of a STARTING/RUNNING unit: SIGTERM, SIGKILL after the grace period. */
  stop(unit: Unit, reason: string): boolean {
    const running = this.running.get(unitId(unit.job, unit.index));
    running?.task.stop(reason, true);
    return running !== undefined;
  }

  /** Emulator shutdown: kills every process group and waits for the processes to exit. */
  async close() {
    const all = [...this.running.values()];
    for (const { task, timer } of all) {
      clearTimeout(timer);
      task.kill();
    }
    await Promise.all(all.map(({ task }) => task.done));
  }

  private pump() {
    // Units whose consumable resources have no room stay queued (RUNNABLE) and are looked at again
    // when an attempt ends; those behind them in the queue may start meanwhile, as in AWS Batch.
    const waiting: Unit[] = [];
    while (!this.book.closing && this.running.size < this.options.maxConcurrentJobs) {
      const unit = this.scheduler.take();
      if (!unit) break;
      if (this.book.code(unit) !== S.RUNNABLE) {
        this.queued.delete(unitId(unit.job, unit.index));
        continue;
      }
      if (!(this.options.resources?.available(unit.job.consumableResources) ?? true)) {
        waiting.push(unit);
        continue;
      }
      this.queued.delete(unitId(unit.job, unit.index));
      this.start(unit);
    }
    for (const unit of waiting) this.scheduler.add(unit);
  }

  private start(unit: Unit) {
    const { job, index } = unit;
    const id = unitId(job, index);
    const state = this.book.runState(unit);
    const attempt = state.attempts.length + 1;
    const taskId = taskIdFor(id, attempt);
    state.current = { taskId };
    this.book.transition(unit, S.STARTING);
    const { dataDir } = this.options;
    const baseEnv: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) if (value !== undefined) baseEnv[name] = value;
    Object.assign(baseEnv, this.options.env);
    const running: Running = {
      unit,
      task: new LocalTask({
        workDir: attemptDir(dataDir, id, attempt),
        dataDir,
        resolveSecret: this.options.resolveSecret,
        task: job.task,
        baseEnv,
        awsEnv: {
          AWS_BATCH_JOB_ID: id,
          AWS_BATCH_JOB_ATTEMPT: String(attempt),
          AWS_BATCH_JQ_NAME: job.queue,
          AWS_BATCH_CE_NAME: "local",
          ...(index >= 0 ? { AWS_BATCH_JOB_ARRAY_INDEX: String(index) } : {}),
        },
        logFile: (container) =>
          logFileForStream(
            dataDir,
            logStreamFor(job.definition.name, streamSegment(job.task, container), taskId),
          ),
        killGraceMs: this.options.killGraceMs,
        onProcessStarted: (container) => {
          if (container === mainContainer(job.task)) this.options.onMainProcess?.(id);
        },
        onRunning: () => {
          if (this.book.closing || !state.current) return;
          state.current.startedAt = Date.now();
          this.book.transition(unit, S.RUNNING);
          const seconds = job.timeout?.attemptDurationSeconds;
          if (seconds)
            running.timer = setTimeout(
              () => running.task.stop(TIMEOUT_REASON, false),
              seconds * 1000 * this.options.timeoutScale,
            );
        },
      }),
    };
    this.running.set(id, running);
    this.scheduler.started(unit);
    this.options.resources?.acquire(job.consumableResources);
    running.task.done.then((result) => {
      clearTimeout(running.timer);
      this.running.delete(id);
      this.options.resources?.release(job.consumableResources);
      this.scheduler.finished(unit); // before the closing check: close() frees the slots too
      if (this.book.closing) return; // still RUNNING in the saved state: a restart fails it as host loss
      this.book.endAttempt(unit, result);
      this.pump();
    });
    running.task.start();
  }
}
