import type { JobDetail } from "@aws-sdk/client-batch";
import type { ChildTable } from "./child-table.js";
import type { FaultOptions } from "./faults.js";
import type { JobStatus, RunState } from "./run-state.js";

// Re-exported so modules that import them from here keep working; they live in run-state.ts so that
// child-table.ts can use them without importing this file (which names ChildTable): no import cycle.
export { type AttemptRecord, isDone, type JobStatus, type RunState, S, STATUSES } from "./run-state.js";

/** What a state-change event carries: shaped like DescribeJobs' JobDetail (the SDK's own type). */
export type BatchJobDetail = JobDetail;

/** An EventBridge "Batch Job State Change" event, as the rule target receives it. */
export type BatchStateChangeEvent = {
  version: "0";
  id: string;
  "detail-type": "Batch Job State Change";
  source: "aws.batch";
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: BatchJobDetail;
};

export interface BatchEmulatorOptions {
  /** State file, per-job work dirs, logs, events.ndjson live here. */
  dataDir: string;
  /** Default 0 (ephemeral). The server binds 127.0.0.1 only. */
  port?: number;
  /** Default "eu-west-1". */
  region?: string;
  /** Default "000000000000". */
  accountId?: string;
  /** Job queue names that exist (as if created by CDK). */
  queues: string[];
  /** The events handler, called like the EventBridge rule target. */
  onEvent: (event: BatchStateChangeEvent) => Promise<void>;
  /** status-only: no processes; each job/child walks the statuses and SUCCEEDS (exit 0). Default "run". */
  mode?: "run" | "status-only";
  /** In status-only mode: deliver every transition (default) or only the final one. */
  statusOnlyEvents?: "all" | "terminal";
  /** Job attempts in STARTING/RUNNING at once in "run" mode (default 4); others stay RUNNABLE. */
  maxConcurrentJobs?: number;
  /**
   * Fair-share scheduling (run mode), as a job queue with a fair-share scheduling policy: share
   * identifier -> weight, higher = more slots (AWS's `weightFactor` is the inverse: lower = more). The
   * `maxConcurrentJobs` slots are shared among the `shareIdentifier`s with RUNNABLE jobs in proportion to
   * their weight; shares not listed, and jobs without a shareIdentifier (one default share), weigh 1.
   * Within a share: higher schedulingPriority first, then submission order. Absent (default): no
   * policy, one queue by schedulingPriority, then submission order.
   */
  shareWeights?: Record<string, number>;
  /** Pause between the queued states SUBMITTED->PENDING->RUNNABLE->STARTING (default 50). */
  stepDelayMs?: number;
  /** Parallel onEvent deliveries (default 8); failures are retried with backoff up to 10 times. */
  eventConcurrency?: number;
  /** SIGTERM -> SIGKILL grace on terminate/timeout (AWS: 30 s; default 2000 locally). */
  killGraceMs?: number;
  /** Extra environment passed to every process. */
  env?: Record<string, string>;
  /**
   * The value of a container secret's `valueFrom` (Secrets Manager ARN or SSM parameter), as the ECS
   * agent fetches it with the execution role; undefined = not found, and the task fails to start as in
   * AWS (ResourceInitializationError). Values go only into the process environment: never into job
   * details, events or the state file.
   */
  resolveSecret?: (valueFrom: string) => string | undefined;
  /**
   * Test-only knob: `timeoutScale` multiplies every attempt timeout (default 1), so a test can keep
   * AWS's 60 s floor on `attemptDurationSeconds` and still see the timeout path in 0.6 s (scale 0.01).
   */
  clock?: { timeoutScale?: number };
  /**
   * Fault injection (all off by default): dropped, delayed, reordered and duplicated events; throttled,
   * failed and applied-then-failed API calls. When absent, the JSON in the environment variable
   * `BATCH_EMULATOR_FAULTS` is used, e.g. `BATCH_EMULATOR_FAULTS='{"duplicateEvents":0.2}' npm start`.
   */
  faults?: FaultOptions;
}

export interface BatchEmulator {
  url: string;
  /** Stops processes, delivers nothing more, flushes state and undelivered events, closes the server. */
  close(): Promise<void>;
  /**
   * Calls by operation, e.g. {SubmitJob: 3, DescribeJobs: 1, eventsDelivered: 40}; `processesStarted`
   * (main-container processes, run mode) and every injected fault as `fault.<name>`, e.g.
   * `fault.dropEvents`.
   */
  stats(): Record<string, number>;
  /**
   * Run mode: main-container processes started per job id (array children as `<parent>:<index>`) since
   * this emulator started; a job that never got a process is absent. Lets a test check that every job
   * ran exactly one process per attempt.
   */
  processCounts(): Record<string, number>;
  /**
   * Registers a job definition the way a deployment creates it, not as an API caller: as CloudFormation
   * does, it carries `systemTags` (`aws:cloudformation:stack-name`, `…:stack-id`, `…:logical-id`), which
   * RegisterJobDefinition refuses from callers. DescribeJobDefinitions then returns them, as AWS does.
   */
  provisionJobDefinition(
    input: Record<string, unknown>,
    systemTags: Record<string, string>,
  ): { jobDefinitionName: string; jobDefinitionArn: string; revision: number };
}

export interface KeyValue {
  name: string;
  value: string;
}
export interface RetryRule {
  onStatusReason?: string;
  onReason?: string;
  onExitCode?: string;
  action: string;
}
export interface RetryStrategy {
  attempts?: number;
  evaluateOnExit?: RetryRule[];
}

/** One container of a job as it runs: the definition merged with the submission's overrides. */
export interface ContainerSpec {
  name: string;
  command: string[];
  environment: KeyValue[];
  resourceRequirements: { type: string; value: string }[];
  essential: boolean;
  dependsOn: { containerName: string; condition: string }[];
  mountPoints: { sourceVolume: string; containerPath: string }[];
  /** `secrets[]` of the definition: environment variables whose values the execution role fetches at start. */
  secrets: { name: string; valueFrom: string }[];
  /** The definition's container object, echoed in JobDetail. */
  raw: Record<string, unknown>;
}

export interface TaskSpec {
  /** containerProperties (one container, named "default") or ecsProperties.taskProperties[0]. */
  kind: "container" | "ecs";
  containers: ContainerSpec[];
  volumes: string[];
  /**
   * Volumes that outlive the task (EFS): volume name → folder relative to the emulator's data dir,
   * shared by every job that mounts the same file system (and access point or root directory).
   */
  sharedVolumes: Record<string, string>;
  /** containerProperties or taskProperties[0] without its containers, echoed in JobDetail. */
  raw: Record<string, unknown>;
}

export interface JobRecord extends RunState {
  jobId: string;
  jobName: string;
  queue: string;
  seq: number;
  createdAt: number;
  status: JobStatus;
  startedAt?: number;
  stoppedAt?: number;
  definition: { arn: string; name: string; revision: number };
  /** What runs; derived from the definition and `overrides`, so it is not saved. */
  task: TaskSpec;
  /** The submission's containerOverrides / ecsPropertiesOverride, as sent. */
  overrides: Record<string, unknown>;
  parameters: Record<string, string>;
  tags?: Record<string, string>;
  propagateTags?: boolean;
  retryStrategy?: RetryStrategy;
  timeout?: { attemptDurationSeconds: number };
  schedulingPriority?: number;
  shareIdentifier?: string;
  dependsOn?: unknown[];
  platformCapabilities?: string[];
  /** SubmitJob's consumableResourcePropertiesOverride: what each attempt takes while it runs. */
  consumableResources?: { consumableResource: string; quantity: number }[];
  /** Array parents only. */
  array?: ChildTable;
}

/** A schedulable thing: a plain job (index -1) or an array child. An array parent never runs. */
export interface Unit {
  job: JobRecord;
  index: number;
}
