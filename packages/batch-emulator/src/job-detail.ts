import type { AttemptDetail, JobSummary } from "@aws-sdk/client-batch";
import { jobArn, jobQueueArn, logStreamFor, type Naming, taskArn, taskIdFor } from "./paths.js";
import { ESSENTIAL_EXITED } from "./task-runner.js";
import { mainContainer, streamSegment } from "./task-spec.js";
import {
  type AttemptRecord,
  type BatchJobDetail,
  type JobRecord,
  type JobStatus,
  type RunState,
  S,
  STATUSES,
} from "./types.js";

/** The id of a unit: the job id, or `<parent>:<index>` for an array child. */
export const unitId = (job: JobRecord, index: number) => (index < 0 ? job.jobId : `${job.jobId}:${index}`);

export interface UnitView extends RunState {
  status: JobStatus;
  startedAt?: number;
  stoppedAt?: number;
}

const time = (value: number | undefined) => (value ? value : undefined);

/**
 * The state of a plain job, parent or child. A child that never needed a {@link RunState} (status-only
 * mode) gets its single successful attempt synthesized from its status and timestamps.
 */
export function viewOf(job: JobRecord, index: number): UnitView {
  const table = job.array;
  if (index < 0 || !table) return job;
  const code = table.status[index]!;
  const base = {
    status: STATUSES[code]!,
    startedAt: time(table.startedAt[index]),
    stoppedAt: time(table.stoppedAt[index]),
  };
  const extra = table.extras.get(index);
  if (extra) return { ...extra, ...base };
  const taskId = taskIdFor(unitId(job, index), 1);
  if (code === S.SUCCEEDED)
    return {
      ...base,
      statusReason: ESSENTIAL_EXITED,
      attempts: [
        {
          taskId,
          startedAt: base.startedAt,
          stoppedAt: base.stoppedAt,
          statusReason: ESSENTIAL_EXITED,
          exitCode: 0,
        },
      ],
    };
  const running = code === S.STARTING || code === S.RUNNING;
  return { ...base, attempts: [], current: running ? { taskId, startedAt: base.startedAt } : undefined };
}

function attemptDetail(naming: Naming, job: JobRecord, attempt: AttemptRecord): AttemptDetail {
  const main = mainContainer(job.task);
  const containers = job.task.containers.map((container) => {
    const result = attempt.containers?.find((entry) => entry.name === container.name);
    const isMain = container === main;
    return {
      name: container.name,
      exitCode: isMain ? attempt.exitCode : result?.exitCode,
      reason: isMain ? attempt.reason : result?.reason,
      logStreamName: logStreamFor(job.definition.name, streamSegment(job.task, container), attempt.taskId),
    };
  });
  const arn = taskArn(naming, attempt.taskId);
  return {
    container: {
      exitCode: attempt.exitCode,
      reason: attempt.reason,
      logStreamName: logStreamFor(job.definition.name, "default", attempt.taskId),
      taskArn: arn,
      networkInterfaces: [],
    },
    startedAt: attempt.startedAt,
    stoppedAt: attempt.stoppedAt,
    statusReason: attempt.statusReason,
    ...(job.task.kind === "ecs"
      ? { taskProperties: [{ taskArn: arn, containerInstanceArn: "local", containers }] }
      : {}),
  };
}

/** `container` (containerProperties jobs) or `ecsProperties` of a JobDetail, with the latest attempt's facts. */
function taskSummary(naming: Naming, job: JobRecord, attempt: AttemptRecord | undefined) {
  const { task } = job;
  const detail = attempt ? attemptDetail(naming, job, attempt) : undefined;
  const effective = (container: (typeof task.containers)[number]) => ({
    ...container.raw,
    command: container.command,
    environment: container.environment,
    resourceRequirements: container.resourceRequirements,
  });
  if (task.kind === "container") {
    const { networkInterfaces: _, ...facts } = detail?.container ?? {};
    return { container: { ...task.raw, ...effective(task.containers[0]!), ...facts } };
  }
  const results = detail?.taskProperties?.[0]?.containers ?? [];
  return {
    ecsProperties: {
      taskProperties: [
        {
          ...task.raw,
          ...(detail ? { taskArn: detail.container?.taskArn } : {}),
          containers: task.containers.map((container) => {
            const { name: _, ...facts } = results.find((entry) => entry.name === container.name) ?? {};
            return { ...effective(container), ...facts };
          }),
        },
      ],
    },
  };
}

/** DescribeJobs' JobDetail of a plain job, an array parent (index -1) or an array child. */
export function describeUnit(naming: Naming, job: JobRecord, index: number): BatchJobDetail {
  const view = viewOf(job, index);
  const id = unitId(job, index);
  const table = job.array;
  const arrayProperties = !table
    ? undefined
    : index < 0
      ? {
          size: table.size,
          statusSummary: table.statusSummary(),
          statusSummaryLastUpdatedAt: table.summaryUpdatedAt,
        }
      : { index, statusSummary: {} };
  const latest = view.current ?? view.attempts.at(-1);
  const detail = {
    jobArn: jobArn(naming, id),
    jobName: job.jobName,
    jobId: id,
    jobQueue: jobQueueArn(naming, job.queue),
    status: view.status,
    ...(job.shareIdentifier !== undefined ? { shareIdentifier: job.shareIdentifier } : {}),
    ...(job.schedulingPriority !== undefined ? { schedulingPriority: job.schedulingPriority } : {}),
    attempts: view.attempts.map((attempt) => attemptDetail(naming, job, attempt)),
    statusReason: view.statusReason,
    createdAt: job.createdAt,
    retryStrategy: job.retryStrategy,
    startedAt: view.startedAt,
    stoppedAt: view.stoppedAt,
    dependsOn: job.dependsOn ?? [],
    jobDefinition: job.definition.arn,
    parameters: job.parameters,
    ...taskSummary(naming, job, index < 0 && table ? undefined : latest),
    timeout: job.timeout,
    tags: job.tags ? { ...job.tags, resourceArn: jobArn(naming, job.jobId) } : undefined,
    propagateTags: job.propagateTags ?? false,
    platformCapabilities: job.platformCapabilities ?? ["EC2"],
    ...(view.isCancelled ? { isCancelled: true } : {}),
    ...(view.isTerminated ? { isTerminated: true } : {}),
    arrayProperties,
  };
  return detail as unknown as BatchJobDetail;
}

/** ListJobs' JobSummary. */
export function summarizeUnit(naming: Naming, job: JobRecord, index: number): JobSummary {
  const view = viewOf(job, index);
  const id = unitId(job, index);
  const last = view.attempts.at(-1);
  return {
    jobArn: jobArn(naming, id),
    jobId: id,
    jobName: job.jobName,
    createdAt: job.createdAt,
    status: view.status,
    statusReason: view.statusReason,
    startedAt: view.startedAt,
    stoppedAt: view.stoppedAt,
    container: last ? { exitCode: last.exitCode, reason: last.reason } : undefined,
    arrayProperties: job.array ? (index < 0 ? { size: job.array.size } : { index }) : undefined,
    jobDefinition: job.definition.arn,
  };
}
