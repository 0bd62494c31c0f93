import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import type { ComponentSettings } from "../config/runtime.js";
import type { EffectiveSpec } from "../domain/effective-spec.js";
import { jobName, newBatchName } from "../domain/names.js";
import { BATCH_TIMEOUT_REASON } from "../domain/status.js";
import { payloadKeyFor } from "../payloads/payload-store.js";
import type { GroupRecord } from "../store/job-store.js";
import { FETCH_CONTAINER, MAIN_CONTAINER } from "./job-definition.js";

/** AWS Batch limits: 1..10 attempts, attempt timeout at least 60 s (job_retries.md, job_timeouts.md). */
export const MAX_BATCH_ATTEMPTS = 10;
export const MIN_ATTEMPT_SECONDS = 60;

/** Parameters carried on every submission and echoed in every state-change event. */
export const PARAM_BATCH = "schedBatch";
export const PARAM_OFFSET = "schedOffset";
export const PARAM_RUN = "schedRun";

/** The AWS Batch job name of a group: the Radix job name for a plain job, `<batch>-g<n>` for an array. */
export const groupJobName = (
  batchName: string,
  group: { index: number; offset: number; size: number; run: number },
) =>
  (group.size === 1 ? jobName(batchName, group.offset) : `${batchName}-g${group.index}`) +
  (group.run > 1 ? `-r${group.run}` : "");

/** The image a spec runs: its own `image`, else the component's with `{imageTagName}` filled in. */
export function imageFor(component: ComponentSettings, spec: EffectiveSpec): string | undefined {
  const image = spec.image ?? component.image;
  return image?.replaceAll("{imageTagName}", spec.imageTagName);
}

/**
 * The container command. Batch task containers have no entrypoint override, so in AWS `args` (and
 * `command` + `args`) replace the image's CMD while its ENTRYPOINT stays. In the local stack the
 * configured `local.command` plays the ENTRYPOINT.
 */
export function commandFor(spec: EffectiveSpec, localEntrypoint?: string[]): string[] | undefined {
  if (spec.command) return [...spec.command, ...(spec.args ?? [])];
  if (spec.args) return [...(localEntrypoint ?? []), ...spec.args];
  return undefined;
}

/**
 * Retries: Radix's backoffLimit counts retries, Batch's attempts count runs (max 10; the rest is
 * resubmitted by the scheduler). A run that hit the attempt timeout is never retried by Batch.
 * When evaluateOnExit is given and no rule matches, Batch retries, so the rules end in a catch-all.
 */
export function retryStrategyFor(spec: EffectiveSpec, attempts?: number) {
  // With a failurePolicy every failure needs the scheduler's judgement (lib/domain/retry.ts).
  const first = spec.failurePolicy ? 1 : Math.min(MAX_BATCH_ATTEMPTS, spec.backoffLimit + 1);
  return {
    attempts: attempts ?? first,
    evaluateOnExit: [
      { onStatusReason: `${BATCH_TIMEOUT_REASON}*`, action: "EXIT" as const },
      { onReason: "*", action: "RETRY" as const },
    ],
  };
}

export interface SubmitContext {
  component: ComponentSettings;
  queue: string;
  jobDefinition: string;
  bucket: string;
  payloadKey?: string;
  localEntrypoint?: string[];
  /** The batch's maxParallel consumable resource: each job takes 1 of it while it runs. */
  consumableResource?: string;
}

/**
 * AWS Batch refuses a SubmitJob request larger than 30 KiB ("Maximum size of a SubmitJob API request
 * payload: 30 KiB", https://docs.aws.amazon.com/batch/latest/userguide/service_limits.html; not
 * adjustable). The request carries the job's command, args and variables, so a long one can pass it.
 */
export const SUBMIT_JOB_MAX_BYTES = 30 * 1024;

/** The request size as AWS measures it: the JSON body the SDK sends (REST-JSON, camelCase, no spaces). */
export const submitJobBytes = (input: SubmitJobCommandInput): number =>
  Buffer.byteLength(JSON.stringify(input), "utf8");

/**
 * The largest SubmitJob request any group of this spec can make: the longest batch name of the component,
 * an array of 10,000 at a large offset, a late run (restarts), a large revision number. Checked before
 * anything is stored, so a job AWS Batch would refuse is never accepted.
 */
export function largestSubmitJobBytes(
  spec: EffectiveSpec,
  context: Omit<SubmitContext, "jobDefinition" | "payloadKey">,
): number {
  const batchName = newBatchName(
    context.component.name,
    new Date(Date.UTC(2099, 11, 31, 23, 59, 59)),
    "x".repeat(8),
  );
  const group: GroupRecord = {
    batchName,
    index: 99_999,
    offset: 99_999_999,
    size: 10_000,
    spec,
    state: "pending",
    run: 9_999,
  };
  return submitJobBytes(
    submitInputFor(group, {
      ...context,
      jobDefinition: `${context.component.jobDefinition}:${"9".repeat(9)}`,
      payloadKey: context.component.payloadPath ? payloadKeyFor(batchName) : undefined,
    }),
  );
}

/**
 * The consumable resources a job takes 1 of while it runs: its batch's maxParallel and its project's
 * maxRunningJobs. AWS Batch takes "up to 5 resources for each job"
 * (batch/latest/userguide/resource-aware-scheduling-how-to-for-jobs.html); this names at most 2.
 */
function consumableResourcesOf(...names: (string | undefined)[]) {
  const list = names
    .filter((name): name is string => name !== undefined)
    .map((consumableResource) => ({ consumableResource, quantity: 1 }));
  return list.length ? { consumableResourcePropertiesOverride: { consumableResourceList: list } } : {};
}

/** SubmitJob input for one group of a batch. Pure; {@link largestSubmitJobBytes} bounds its size. */
export function submitInputFor(
  group: GroupRecord,
  context: SubmitContext,
  attempts?: number,
): SubmitJobCommandInput {
  const { spec } = group;
  const resources = [
    { type: "VCPU" as const, value: String(spec.vcpus) },
    { type: "MEMORY" as const, value: String(spec.memoryMiB) },
    ...(spec.gpuCount > 0 ? [{ type: "GPU" as const, value: String(spec.gpuCount) }] : []),
  ];
  const variables = Object.entries(spec.variables).map(([name, value]) => ({ name, value }));
  const containers = [
    {
      name: MAIN_CONTAINER,
      command: commandFor(spec, context.localEntrypoint),
      environment: variables.length ? variables : undefined,
      resourceRequirements: resources,
    },
  ];
  if (context.payloadKey && context.component.payloadPath) {
    containers.unshift({
      name: FETCH_CONTAINER,
      command: undefined,
      environment: [
        { name: "PAYLOAD_BUCKET", value: context.bucket },
        { name: "PAYLOAD_KEY", value: context.payloadKey },
        { name: "PAYLOAD_INDEX_KEY", value: context.payloadKey },
        { name: "PAYLOAD_BASE", value: String(group.offset) },
      ],
      resourceRequirements: undefined as never,
    });
  }
  return {
    jobName: groupJobName(group.batchName, group),
    jobQueue: context.queue,
    jobDefinition: context.jobDefinition,
    arrayProperties: group.size > 1 ? { size: group.size } : undefined,
    parameters: {
      [PARAM_BATCH]: group.batchName,
      [PARAM_OFFSET]: String(group.offset),
      [PARAM_RUN]: String(group.run),
    },
    retryStrategy: retryStrategyFor(spec, attempts),
    // Within a share of the fair-share queue, higher priorities start first (PATCH changes it by resubmitting).
    schedulingPriorityOverride: spec.priority,
    timeout: { attemptDurationSeconds: Math.max(MIN_ATTEMPT_SECONDS, spec.timeLimitSeconds) },
    ecsPropertiesOverride: { taskProperties: [{ containers }] },
    // The queues schedule by a fair-share policy (cdk/), which requires a share identifier on every job:
    // the job's project, else the job component, so one cannot starve another.
    shareIdentifier: spec.shareIdentifier ?? context.component.name,
    ...consumableResourcesOf(context.consumableResource, spec.projectLimit),
    propagateTags: true,
    tags: { "job-scheduler:component": context.component.name, "job-scheduler:batch": group.batchName },
  };
}
