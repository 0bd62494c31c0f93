import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import { mainContainer } from "./task-spec.js";
import type { ContainerSpec, TaskSpec } from "./types.js";
import { containerRoot, prepareWorkspace } from "./workspace.js";

export const ESSENTIAL_EXITED = "Essential container in task exited";
export const DEPENDENCY_FAILED = "Dependent container exited with non-zero exit code";

export interface TaskRunOptions {
  /** `<dataDir>/tasks/<job>/<attempt>`: volumes and one root folder per container live here. */
  workDir: string;
  /** The emulator's data dir: EFS volumes live under it (workspace.ts). */
  dataDir?: string;
  /** Container secrets' values by `valueFrom` (BatchEmulatorOptions.resolveSecret). */
  resolveSecret?: (valueFrom: string) => string | undefined;
  task: TaskSpec;
  /** The emulator's process.env and options.env; container and AWS variables go on top. */
  baseEnv: Record<string, string>;
  /** AWS_BATCH_JOB_ID, AWS_BATCH_JOB_ATTEMPT, ... (set last, like AWS). */
  awsEnv: Record<string, string>;
  logFile: (container: ContainerSpec) => string;
  killGraceMs: number;
  /** Called once, when the first container process has been spawned. */
  onRunning: () => void;
  /** Called for every container process spawned (a process id was assigned). */
  onProcessStarted?: (container: ContainerSpec) => void;
}

export interface TaskResult {
  exitCode?: number;
  reason?: string;
  statusReason: string;
  containers: { name: string; exitCode?: number; reason?: string }[];
}

interface ContainerRun {
  spec: ContainerSpec;
  state: "waiting" | "running" | "exited" | "skipped";
  process?: ChildProcess;
  exitCode?: number;
  reason?: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * One attempt of a job as local processes, one per container (argv, no shell, cwd of the emulator), in
 * the folders of workspace.ts (`BATCH_LOCAL_ROOT` tells each process where its root is). Containers
 * start in `dependsOn` order (START, COMPLETE, SUCCESS; HEALTHY counts as START); when an essential one
 * exits, the others get SIGTERM and, after the grace period, SIGKILL - as ECS stops a task.
 */
export class LocalTask {
  private readonly runs: ContainerRun[];
  private stopping: { statusReason: string; keepExitCode: boolean } | undefined;
  private ending: { exitCode?: number; reason?: string; statusReason: string } | undefined;
  private readonly graceTimers = new Set<NodeJS.Timeout>();
  private resolveDone!: (result: TaskResult) => void;
  private announced = false;
  private finished = false;
  readonly done: Promise<TaskResult>;

  constructor(private readonly options: TaskRunOptions) {
    this.runs = options.task.containers.map((spec) => ({ spec, state: "waiting" }));
    this.done = new Promise((resolve) => {
      this.resolveDone = resolve;
    });
  }

  /**
   * Fetches the containers' secrets, prepares the folders and starts the containers that depend on
   * nothing. A secret that cannot be fetched fails the whole task before any container starts, as the
   * ECS agent does (its message names the secret's ARN, never a value).
   */
  start() {
    const missing = this.options.task.containers
      .flatMap((container) => container.secrets)
      .find((secret) => this.options.resolveSecret?.(secret.valueFrom) === undefined);
    if (missing) {
      const reason = `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: ${missing.valueFrom} was not found`;
      for (const run of this.runs) run.state = "skipped";
      this.ending = { reason, statusReason: reason };
      for (const run of this.runs) run.reason = reason;
      this.advance();
      return;
    }
    try {
      prepareWorkspace(this.options.workDir, this.options.task, this.options.dataDir);
    } catch (error) {
      for (const run of this.runs) this.skip(run, `CannotStartContainerError: ${(error as Error).message}`);
    }
    this.advance();
  }

  /** Terminate or timeout: SIGTERM now, SIGKILL after the grace period; nothing else starts. */
  stop(statusReason: string, keepExitCode: boolean) {
    this.stopping ??= { statusReason, keepExitCode };
    this.signalAll("SIGTERM");
    this.advance();
  }

  /** Emulator shutdown: SIGKILL every process group at once. */
  kill() {
    this.stopping ??= { statusReason: "Host EC2 (instance i-local) terminated.", keepExitCode: false };
    this.signalAll("SIGKILL");
    this.advance();
  }

  private advance(): void {
    let changed = true;
    while (changed) {
      changed = false;
      for (const run of this.runs) {
        if (run.state !== "waiting") continue;
        if (this.stopping || this.ending) {
          this.skip(run, undefined);
          changed = true;
          continue;
        }
        const verdict = this.dependencies(run);
        if (verdict === "wait") continue;
        changed = true;
        if (verdict === "start") this.launch(run);
        else this.skip(run, verdict.reason, verdict.statusReason);
      }
    }
    const running = this.runs.some((run) => run.state === "running");
    const waiting = this.runs.filter((run) => run.state === "waiting");
    if (!running && waiting.length) {
      // Nothing runs and nothing can start: a dependency cycle or a missing container.
      for (const run of waiting) this.skip(run, "CannotStartContainerError: unsatisfiable dependsOn");
      this.advance();
      return;
    }
    if (!running && !waiting.length) this.finish();
  }

  private dependencies(run: ContainerRun): "start" | "wait" | { reason: string; statusReason?: string } {
    for (const dependency of run.spec.dependsOn) {
      const other = this.runs.find((candidate) => candidate.spec.name === dependency.containerName);
      if (!other) continue;
      const condition = dependency.condition;
      if (other.state === "skipped")
        return { reason: `CannotStartContainerError: dependency ${other.spec.name} did not start` };
      if (condition === "START" || condition === "HEALTHY") {
        if (other.state === "waiting") return "wait";
      } else if (other.state !== "exited") return "wait";
      else if (condition === "SUCCESS" && other.exitCode !== 0)
        return {
          reason: `DependencyConditionNotMet: container ${other.spec.name} exited with ${other.exitCode ?? other.reason}`,
          statusReason: DEPENDENCY_FAILED,
        };
    }
    return "start";
  }

  private launch(run: ContainerRun) {
    const { spec } = run;
    if (!spec.command.length)
      return this.skip(
        run,
        "CannotStartContainerError: no command (images are not run locally)",
        "Task failed to start",
      );
    const env: Record<string, string> = { ...this.options.baseEnv };
    for (const entry of spec.environment) env[entry.name] = entry.value;
    // Checked in start(): every secret resolves.
    for (const secret of spec.secrets) env[secret.name] = this.options.resolveSecret!(secret.valueFrom)!;
    Object.assign(env, this.options.awsEnv, {
      BATCH_LOCAL_ROOT: containerRoot(this.options.workDir, spec),
    });
    const logFile = this.options.logFile(spec);
    let fd: number | undefined;
    try {
      mkdirSync(dirname(logFile), { recursive: true });
      fd = openSync(logFile, "a");
      const child = spawn(spec.command[0]!, spec.command.slice(1), {
        cwd: process.cwd(),
        env,
        detached: true,
        stdio: ["ignore", fd, fd],
      });
      run.process = child;
      run.state = "running";
      if (child.pid !== undefined) this.options.onProcessStarted?.(spec);
      let ended = false;
      const end = (exitCode: number | undefined, reason: string | undefined) => {
        if (ended) return;
        ended = true;
        this.exited(run, exitCode, reason);
      };
      child.once("error", (error) => end(undefined, `CannotStartContainerError: ${error.message}`));
      child.once("exit", (code, signal) =>
        end(code ?? (signal ? 128 + (SIGNALS[signal] ?? 0) : undefined), undefined),
      );
    } catch (error) {
      return this.skip(run, `CannotStartContainerError: ${(error as Error).message}`, "Task failed to start");
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (!this.announced) {
      this.announced = true;
      this.options.onRunning();
    }
  }

  private exited(run: ContainerRun, exitCode: number | undefined, reason: string | undefined) {
    run.state = "exited";
    run.exitCode = exitCode;
    run.reason = reason;
    this.signal(run, "SIGKILL"); // leftovers of the container's process group die with it, as in ECS
    if (run.spec.essential && !this.ending) {
      this.ending = {
        exitCode,
        reason,
        statusReason: exitCode === undefined && reason ? "Task failed to start" : ESSENTIAL_EXITED,
      };
      this.signalAll("SIGTERM");
    }
    this.advance();
  }

  private skip(run: ContainerRun, reason: string | undefined, statusReason = ESSENTIAL_EXITED) {
    run.state = "skipped";
    run.reason = reason;
    if (run.spec.essential && !this.ending && !this.stopping && reason) {
      this.ending = { reason, statusReason };
      this.signalAll("SIGTERM");
    }
  }

  private signal(run: ContainerRun, signal: NodeJS.Signals) {
    const pid = run.process?.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  }

  private signalAll(signal: NodeJS.Signals) {
    for (const run of this.runs) if (run.state === "running") this.signal(run, signal);
    if (signal === "SIGTERM" && this.runs.some((run) => run.state === "running")) {
      const timer = setTimeout(() => {
        this.graceTimers.delete(timer);
        for (const run of this.runs) if (run.state === "running") this.signal(run, "SIGKILL");
      }, this.options.killGraceMs);
      this.graceTimers.add(timer);
    }
  }

  private finish() {
    if (this.finished) return;
    this.finished = true;
    for (const timer of this.graceTimers) clearTimeout(timer);
    this.graceTimers.clear();
    const main = this.runs.find((run) => run.spec === mainContainer(this.options.task))!;
    const containers = this.runs.map((run) => ({
      name: run.spec.name,
      exitCode: run.exitCode,
      reason: run.reason,
    }));
    const outcome = this.stopping
      ? {
          exitCode: this.stopping.keepExitCode ? main.exitCode : undefined,
          reason: main.reason,
          statusReason: this.stopping.statusReason,
        }
      : (this.ending ?? { exitCode: main.exitCode, reason: main.reason, statusReason: ESSENTIAL_EXITED });
    this.resolveDone({ ...outcome, containers });
  }
}
