import type * as z from "zod";
import { CronError, eventBridgeExpression, isTimeZone } from "../schedules/cron.js";
import {
  type BatchStatusRule,
  type CONCURRENCY_POLICIES,
  type EnvironmentConfig,
  type IamStatement,
  IMAGE_HINT,
  type RadixJobComponent,
  type ScheduleEntry,
  type VolumeMountInput,
} from "./radix-job.js";

/**
 * A job component as it runs in the deployment's Radix environment: the environment's `environmentConfig`
 * entry merged over the common fields the way radix-operator builds a RadixDeployJobComponent
 * (pkg/apis/deployment/radixjobcomponent.go, radixcommoncomponent.go, radixcomponent.go), defaults filled in.
 */
export interface JobComponentConfig {
  name: string;
  /** Container image; `{imageTagName}` in it is replaced by the job's imageTagName (Radix convention). */
  image?: string;
  imageTagName: string;
  schedulerPort: number;
  payload?: { path: string };
  resources?: RadixJobComponent["resources"];
  node?: RadixJobComponent["node"];
  runtime?: RadixJobComponent["runtime"];
  timeLimitSeconds: number;
  backoffLimit: number;
  notifications?: { webhook: string };
  batchStatusRules?: BatchStatusRule[];
  variables?: Record<string, string>;
  retention: RadixJobComponent["retention"];
  local?: RadixJobComponent["local"];
  /** Defaults of every job's command/args/failurePolicy (a request's own fields win). */
  command?: string[];
  args?: string[];
  failurePolicy?: RadixJobComponent["failurePolicy"];
  /** The main container's user (ECS `user`). */
  runAsUser?: number;
  /** The main container's root file system is read-only (ECS `readonlyRootFilesystem`). */
  readOnlyFileSystem: boolean;
  /** Names of secret environment variables of the main container. */
  secrets: string[];
  /**
   * Secret name → existing Secrets Manager ARN or SSM parameter; the other names are keys of the
   * component's own secret. (The resolved form is itself a valid component, so it parses again.)
   */
  aws?: { secrets?: Record<string, string> };
  /** Extra permissions of the component's job role. */
  identity?: { aws: { policyArns: string[]; statements: IamStatement[] } };
  volumeMounts: VolumeMount[];
  schedules: Schedule[];
}

export interface EfsVolume {
  fileSystemId: string;
  accessPointId?: string;
  rootDirectory?: string;
  readOnly: boolean;
  securityGroupId: string;
}

export interface VolumeMount {
  name: string;
  /** Where the job sees it. */
  path: string;
  efs?: EfsVolume;
  /** A scratch volume that lives as long as the task (Radix emptyDir). */
  emptyDir?: { sizeLimit: string };
}

export type ConcurrencyPolicy = (typeof CONCURRENCY_POLICIES)[number];

export interface Schedule {
  /** Unique within the component. */
  name: string;
  /** Five-field cron expression or macro (Kubernetes CronJob syntax). */
  cron: string;
  timeZone: string;
  concurrencyPolicy: ConcurrencyPolicy;
  payload?: string;
  job?: ScheduleEntry["job"];
}

/** Radix's default timeLimitSeconds (pkg/apis/defaults: RadixJobTimeLimitSeconds, 12 h). */
const DEFAULT_TIME_LIMIT_SECONDS = 43_200;
/**
 * EventBridge Scheduler takes a target input of at most 8192 characters
 * (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_Target.html); the schedule's payload and
 * job fields travel in it.
 */
export const MAX_SCHEDULE_INPUT = 7000;

type Ctx = z.core.$RefinementCtx;
type Path = (string | number)[];

const isEmpty = (value: object | undefined) =>
  value === undefined || Object.values(value).every((entry) => entry === undefined);

function mergeVolumeMounts(
  common: VolumeMountInput[] | undefined,
  environment: VolumeMountInput[] | undefined,
): { mount: VolumeMountInput; from: "common" | "environment"; index: number }[] {
  if (!environment) return (common ?? []).map((mount, index) => ({ mount, from: "common", index }));
  const byName = new Map(environment.map((mount, index) => [mount.name, { mount, index }]));
  const merged: { mount: VolumeMountInput; from: "common" | "environment"; index: number }[] = [];
  (common ?? []).forEach((mount, index) => {
    const override = byName.get(mount.name);
    byName.delete(mount.name);
    merged.push(
      override
        ? {
            mount: { ...mount, ...override.mount, efs: { ...mount.efs, ...override.mount.efs } },
            from: "environment",
            index: override.index,
          }
        : { mount, from: "common", index },
    );
  });
  for (const { mount, index } of byName.values()) merged.push({ mount, from: "environment", index });
  return merged;
}

function resolveVolume(mount: VolumeMountInput, at: Path, ctx: Ctx): VolumeMount | undefined {
  const issue = (message: string, field?: string): undefined => {
    ctx.addIssue({ code: "custom", path: field ? [...at, field] : at, message });
  };
  const efs = mount.efs && Object.keys(mount.efs).length > 0 ? mount.efs : undefined;
  if (!mount.path) return issue("required: where the job sees the volume (an absolute path)", "path");
  if (mount.type === "aws-efs" && !efs)
    return issue("type aws-efs needs efs: {fileSystemId, securityGroupId}", "efs");
  if (efs && mount.emptyDir) return issue("set one of efs or emptyDir");
  if (mount.emptyDir) return { name: mount.name, path: mount.path, emptyDir: mount.emptyDir };
  if (!efs)
    return issue(
      "says nothing to mount: use efs: {fileSystemId, securityGroupId, accessPointId?, readOnly?} (type: aws-efs) or emptyDir: {sizeLimit}",
    );
  if (!efs.fileSystemId) return issue("required: the EFS file system id (fs-...)", "efs");
  if (!efs.securityGroupId)
    return issue(
      "efs.securityGroupId is required: the security group of the file system's mount targets, which the stack opens to the Batch hosts on NFS (2049)",
      "efs",
    );
  if (efs.accessPointId && efs.rootDirectory && efs.rootDirectory !== "/")
    return issue(
      "efs.rootDirectory must be / or absent with an access point (AWS Batch: the access point's path applies)",
      "efs",
    );
  return {
    name: mount.name,
    path: mount.path,
    efs: {
      fileSystemId: efs.fileSystemId,
      accessPointId: efs.accessPointId,
      rootDirectory: efs.rootDirectory,
      readOnly: efs.readOnly ?? false,
      securityGroupId: efs.securityGroupId,
    },
  };
}

function resolveSchedules(
  job: RadixJobComponent,
  env: EnvironmentConfig | undefined,
  at: { job: Path; env: Path },
  ctx: Ctx,
): Schedule[] {
  const cron = env?.cron ?? job.cron;
  const cronAt = env?.cron ? [...at.env, "cron"] : [...at.job, "cron"];
  const entries = env?.schedules ?? job.schedules ?? [];
  const entriesAt = env?.schedules ? [...at.env, "schedules"] : [...at.job, "schedules"];
  const schedules: Schedule[] = [];
  const names = new Set<string>();
  const add = (entry: ScheduleEntry, name: string, where: Path) => {
    const timeZone = entry.timeZone ?? "UTC";
    if (!isTimeZone(timeZone)) {
      ctx.addIssue({
        code: "custom",
        path: [...where, "timeZone"],
        message: `'${timeZone}' is not an IANA time zone name (e.g. Europe/Oslo, UTC)`,
      });
      return;
    }
    if (names.has(name)) {
      ctx.addIssue({ code: "custom", path: [...where, "name"], message: `'${name}' is used twice` });
      return;
    }
    names.add(name);
    try {
      eventBridgeExpression(entry.cron, timeZone);
    } catch (error) {
      if (!(error instanceof CronError)) throw error;
      ctx.addIssue({ code: "custom", path: [...where, "cron"], message: `'${entry.cron}' ${error.message}` });
      return;
    }
    const input = JSON.stringify({ payload: entry.payload, job: entry.job });
    if (input.length > MAX_SCHEDULE_INPUT) {
      ctx.addIssue({
        code: "custom",
        path: where,
        message: `payload and job take ${input.length} characters; a schedule carries at most ${MAX_SCHEDULE_INPUT} (EventBridge Scheduler target input); keep large inputs in S3 and pass their key`,
      });
      return;
    }
    schedules.push({
      name,
      cron: entry.cron,
      timeZone,
      concurrencyPolicy: entry.concurrencyPolicy ?? "Allow",
      ...(entry.payload !== undefined ? { payload: entry.payload } : {}),
      ...(entry.job !== undefined ? { job: entry.job } : {}),
    });
  };
  for (const [index, expression] of (cron?.schedules ?? []).entries()) {
    const where = [...cronAt, "schedules", index];
    add(
      { cron: expression, timeZone: cron?.timeZone, concurrencyPolicy: cron?.concurrency },
      `cron-${index}`,
      where,
    );
  }
  for (const [index, entry] of entries.entries()) {
    add(entry, entry.name ?? `schedule-${index}`, [...entriesAt, index]);
  }
  return schedules;
}

/**
 * The component in `environment`, or undefined when it is not enabled there (Radix `enabled: false`: not
 * deployed, not served). Problems are added to `ctx` at the path of the field that has them.
 */
export function resolveJobComponent(
  job: RadixJobComponent,
  index: number,
  environment: string | undefined,
  ctx: Ctx,
): JobComponentConfig | undefined {
  const jobAt: Path = ["spec", "jobs", index];
  const envIndex = environment
    ? (job.environmentConfig ?? []).findIndex((entry) => entry.environment === environment)
    : -1;
  const env = envIndex >= 0 ? job.environmentConfig![envIndex] : undefined;
  const envAt: Path = [...jobAt, "environmentConfig", envIndex];
  if (!environment && job.environmentConfig?.length) {
    ctx.addIssue({
      code: "custom",
      path: [...jobAt, "environmentConfig"],
      message: `the deployment names no Radix environment, so none of ${job.environmentConfig.map((entry) => entry.environment).join(", ")} would apply; set aws.environment (npm start -- --environment NAME, cdk -c environment=NAME)`,
    });
  }
  if ((env?.enabled ?? job.enabled ?? true) === false) return undefined;

  const image = env?.image ?? job.image;
  for (const [field, source] of [
    ["src", env?.src !== undefined ? envAt : jobAt],
    ["dockerfileName", env?.dockerfileName !== undefined ? envAt : jobAt],
  ] as const) {
    const value = env?.[field] ?? job[field];
    if (value !== undefined && !image)
      ctx.addIssue({
        code: "custom",
        path: [...source, field],
        message: `Radix builds the image from src/dockerfileName; this product runs built images only: ${IMAGE_HINT}`,
      });
  }

  const identity = { ...job.identity?.aws, ...env?.identity?.aws };
  const secrets = job.secrets ?? [];
  const secretSources = job.aws?.secrets ?? {};
  for (const name of Object.keys(secretSources)) {
    if (!secrets.includes(name))
      ctx.addIssue({
        code: "custom",
        path: [...jobAt, "aws", "secrets", name],
        message: `'${name}' is not listed in secrets`,
      });
  }

  const variables = job.variables || env?.variables ? { ...job.variables, ...env?.variables } : undefined;
  secrets.forEach((name, at) => {
    if (variables && name in variables)
      ctx.addIssue({
        code: "custom",
        path: [...jobAt, "secrets", at],
        message: `'${name}' is also a variable; an environment variable is either a secret or a plain value`,
      });
  });

  const volumeMounts: VolumeMount[] = [];
  const paths = new Set<string>();
  for (const { mount, from, index: at } of mergeVolumeMounts(job.volumeMounts, env?.volumeMounts)) {
    const where = [...(from === "environment" ? envAt : jobAt), "volumeMounts", at];
    const resolved = resolveVolume(mount, where, ctx);
    if (!resolved) continue;
    if (paths.has(resolved.path) || resolved.path === job.payload?.path) {
      ctx.addIssue({
        code: "custom",
        path: [...where, "path"],
        message: `${resolved.path} is mounted twice (or is payload.path)`,
      });
      continue;
    }
    paths.add(resolved.path);
    volumeMounts.push(resolved);
  }

  const node = { ...job.node };
  if (env?.node?.gpu) node.gpu = env.node.gpu;
  if (env?.node?.gpuCount !== undefined && Number(env.node.gpuCount) > 0) node.gpuCount = env.node.gpuCount;
  const webhook = env?.notifications?.webhook ?? job.notifications?.webhook;
  const runtime = { ...job.runtime, ...env?.runtime };
  const resources = !isEmpty(env?.resources) ? env?.resources : job.resources;
  const resolved: JobComponentConfig = {
    name: job.name,
    imageTagName: env?.imageTagName || job.imageTagName || "latest",
    schedulerPort: job.schedulerPort,
    timeLimitSeconds: env?.timeLimitSeconds ?? job.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS,
    backoffLimit: env?.backoffLimit ?? job.backoffLimit ?? 0,
    retention: job.retention,
    readOnlyFileSystem: env?.readOnlyFileSystem ?? job.readOnlyFileSystem ?? false,
    secrets,
    volumeMounts,
    schedules: resolveSchedules(job, env, { job: jobAt, env: envAt }, ctx),
  };
  const optional: Partial<JobComponentConfig> = {
    image,
    payload: job.payload,
    resources,
    node: isEmpty(node) ? undefined : node,
    runtime: isEmpty(runtime) ? undefined : runtime,
    notifications: webhook ? { webhook } : undefined,
    batchStatusRules: env?.batchStatusRules ?? job.batchStatusRules,
    variables,
    local: job.local,
    aws: job.aws,
    command: env?.command ?? job.command,
    args: env?.args ?? job.args,
    failurePolicy: env?.failurePolicy ?? job.failurePolicy,
    runAsUser: env?.runAsUser ?? job.runAsUser,
    identity:
      identity.policyArns || identity.statements
        ? { aws: { policyArns: identity.policyArns ?? [], statements: identity.statements ?? [] } }
        : undefined,
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined) (resolved as unknown as Record<string, unknown>)[key] = value;
  return resolved;
}
