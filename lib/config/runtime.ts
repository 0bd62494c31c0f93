import * as z from "zod";
import { ARCHITECTURES, type AwsConfig, type DeploymentConfig, type JobComponentConfig } from "./schema.js";

/**
 * What a running function needs to know about its deployment, derived once from the configuration file.
 * In AWS everything but the generated table and bucket names is bundled into the function code at synth
 * (see {@link bundledRuntimeConfig}); the two names come from `TABLE_NAME` and `BUCKET_NAME`. In the local
 * stack it is built in-process.
 */
export const queueSettingsSchema = z.object({
  /** The compute's name (`cpu`, `cpu-arm64`, the GPU family `g5`), plus `-spot` for the Spot queue of `capacity: both`. */
  key: z.string(),
  /** Job queue name or ARN, as SubmitJob takes it. */
  queue: z.string(),
  /** GPU type names this queue offers (empty for a CPU queue). */
  gpuTypes: z.array(z.string()),
  maxGpusPerInstance: z.number().int().nonnegative(),
  architecture: z.enum(ARCHITECTURES).default("amd64"),
  /** Spot (reclaimable: `preemptible` jobs) or on-demand. */
  capacity: z.enum(["onDemand", "spot"]).default("onDemand"),
  /** The compute environment's instance types, as configured (`runtime.nodeType` picks by them). */
  instanceTypes: z.array(z.string()).default([]),
});

export const projectSettingsSchema = z.object({
  name: z.string(),
  weight: z.number().positive(),
  /** The project's cap on running jobs (projects[].maxRunningJobs), if any. */
  maxRunningJobs: z.number().int().positive().optional(),
  /** The consumable resource that enforces it ({@link resourceNames}.projectLimit), named on its jobs. */
  consumableResource: z.string().optional(),
});

export const componentSettingsSchema = z.object({
  name: z.string(),
  /** Job definition name (without revision) registered for this component. */
  jobDefinition: z.string(),
  /** Image with `{imageTagName}` placeholder, if the component has one. */
  image: z.string().optional(),
  imageTagName: z.string(),
  payloadPath: z.string().optional(),
  timeLimitSeconds: z.number().int().positive(),
  backoffLimit: z.number().int().nonnegative(),
  resources: z
    .object({
      requests: z.object({ cpu: z.string().optional(), memory: z.string().optional() }).optional(),
      limits: z.object({ cpu: z.string().optional(), memory: z.string().optional() }).optional(),
    })
    .optional(),
  node: z
    .object({ gpu: z.string().optional(), gpuCount: z.union([z.string(), z.number()]).optional() })
    .optional(),
  runtime: z
    .object({ architecture: z.enum(ARCHITECTURES).optional(), nodeType: z.string().optional() })
    .optional(),
  variables: z.record(z.string(), z.string()).optional(),
  /** The component's defaults of every job's command, args and failurePolicy (radixconfig). */
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  failurePolicy: z
    .object({
      rules: z.array(
        z.object({
          action: z.string(),
          onExitCodes: z.object({ operator: z.string(), values: z.array(z.number()) }),
        }),
      ),
    })
    .optional(),
  webhook: z.string().optional(),
  batchStatusRules: z
    .array(
      z.object({
        condition: z.enum(["All", "Any"]),
        operator: z.enum(["In", "NotIn"]),
        jobStatuses: z.array(z.string()),
        batchStatus: z.string(),
      }),
    )
    .optional(),
  retention: z.object({ succeeded: z.number(), failed: z.number(), maxAgeDays: z.number() }),
});

export const runtimeConfigSchema = z.object({
  app: z.string(),
  tableName: z.string(),
  bucketName: z.string(),
  queues: z.array(queueSettingsSchema).min(1),
  /** How long an Idempotency-Key is remembered. */
  idempotencyWindowSeconds: z.number().int().positive().default(86_400),
  components: z.array(componentSettingsSchema).min(1),
  /** Per project: who may submit, and who may stop/restart/reprioritize/delete (lib/domain/access.ts). */
  access: z
    .array(
      z.object({
        name: z.string(),
        submit: z.array(z.string()).optional(),
        stop: z.array(z.string()).optional(),
      }),
    )
    .default([]),
  /** Configured projects; when empty, any `project` is accepted (as a share identifier of weight 1). */
  projects: z.array(projectSettingsSchema).default([]),
});

export type QueueSettings = z.infer<typeof queueSettingsSchema>;
export type ProjectSettings = z.infer<typeof projectSettingsSchema>;
export type ComponentSettings = z.infer<typeof componentSettingsSchema>;
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** Resource names derived from the configuration; cdk/ and the local stack use the same ones. */
export const resourceNames = {
  table: (app: string) => `${app}-jobs`,
  bucket: (app: string) => `${app}-payloads`,
  queue: (app: string, key: string) => `${app}-${key}`,
  jobDefinition: (app: string, component: string) => `${app}-${component}`,
  /**
   * A project's maxRunningJobs: an AWS Batch consumable resource (REPLENISHABLE, total = the cap), created
   * by cdk/ (constructs/project-limits.ts) and by the local stack at start. Names are unique per account
   * (batch/latest/userguide/resource-aware-scheduling-how-to-create.html), hence the app in it.
   */
  projectLimit: (app: string, project: string) => `${app}-project-${project}`,
};

function componentSettings(app: string, job: JobComponentConfig): ComponentSettings {
  return {
    name: job.name,
    jobDefinition: resourceNames.jobDefinition(app, job.name),
    image: job.image,
    imageTagName: job.imageTagName,
    payloadPath: job.payload?.path,
    timeLimitSeconds: job.timeLimitSeconds,
    backoffLimit: job.backoffLimit,
    resources: job.resources,
    node: job.node,
    runtime: job.runtime,
    variables: job.variables,
    command: job.command,
    args: job.args,
    failurePolicy: job.failurePolicy,
    webhook: job.notifications?.webhook,
    batchStatusRules: job.batchStatusRules,
    retention: job.retention,
  };
}

/** The access rules of the configured projects (only those that restrict something). */
function accessOf(config: DeploymentConfig): RuntimeConfig["access"] {
  return (config.projects ?? [])
    .filter((project) => project.submit !== undefined || project.stop !== undefined)
    .map(({ name, submit, stop }) => ({ name, submit, stop }));
}

/** One job queue and its compute environment, as configured (cdk/ makes them, the functions pick one). */
export interface ComputeQueue {
  key: string;
  kind: "cpu" | "gpu";
  capacity: "onDemand" | "spot";
  architecture: (typeof ARCHITECTURES)[number];
  instanceTypes: string[];
  maxvCpus: number;
  gpuTypes: string[];
  maxGpusPerInstance: number;
}

/** Suffix of the key of the Spot queue of a compute with `capacity: both`. */
export const SPOT_SUFFIX = "-spot";

/**
 * Every job queue of a deployment, in the order requests are matched: the CPU computes, then the GPU
 * families, each as configured. A compute with `capacity: both` gives an on-demand queue under its name
 * and then a Spot one under `<name>-spot`; one with only Spot keeps its name, so a queue keeps its key
 * (and its name) when `spot: true` becomes `capacity: spot`.
 */
export function computeQueues(aws: Pick<AwsConfig, "cpu" | "gpuFamilies">): ComputeQueue[] {
  const computes = [
    ...aws.cpu.map((cpu) => ({ ...cpu, kind: "cpu" as const, gpuTypes: [], maxGpusPerInstance: 0 })),
    ...aws.gpuFamilies.map((family) => ({ ...family, kind: "gpu" as const })),
  ];
  return computes.flatMap((compute) => {
    const queue = (key: string, capacity: ComputeQueue["capacity"]): ComputeQueue => ({
      key,
      kind: compute.kind,
      capacity,
      architecture: compute.architecture,
      instanceTypes: compute.instanceTypes,
      maxvCpus: compute.maxvCpus,
      gpuTypes: compute.gpuTypes,
      maxGpusPerInstance: compute.maxGpusPerInstance,
    });
    return compute.capacity === "both"
      ? [queue(compute.name, "onDemand"), queue(`${compute.name}${SPOT_SUFFIX}`, "spot")]
      : [queue(compute.name, compute.capacity)];
  });
}

/**
 * Builds the runtime settings. `names` lets cdk/ pass tokens (ARNs, generated names) and the local stack
 * pass its own; by default the names come from {@link resourceNames}.
 */
export function buildRuntimeConfig(
  config: DeploymentConfig,
  names: { tableName?: string; bucketName?: string; queueName?: (key: string) => string } = {},
): RuntimeConfig {
  const app = config.metadata.name;
  const queueName = names.queueName ?? ((key: string) => resourceNames.queue(app, key));
  return {
    app,
    tableName: names.tableName ?? resourceNames.table(app),
    bucketName: names.bucketName ?? resourceNames.bucket(app),
    idempotencyWindowSeconds: config.aws.api.idempotencyWindowSeconds,
    queues: computeQueues(config.aws).map((queue) => ({
      key: queue.key,
      queue: queueName(queue.key),
      gpuTypes: queue.gpuTypes,
      maxGpusPerInstance: queue.maxGpusPerInstance,
      architecture: queue.architecture,
      capacity: queue.capacity,
      instanceTypes: queue.instanceTypes,
    })),
    components: config.spec.jobs.map((job) => componentSettings(app, job)),
    access: accessOf(config),
    projects: config.projects.map(({ name, weight, maxRunningJobs }) => ({
      name,
      weight,
      ...(maxRunningJobs === undefined
        ? {}
        : { maxRunningJobs, consumableResource: resourceNames.projectLimit(app, name) }),
    })),
  };
}

/**
 * The part of the runtime settings that the functions find in their own code: everything but the table
 * and bucket names, which CloudFormation generates (they reach the functions as `TABLE_NAME` and
 * `BUCKET_NAME`). Queues are named by {@link resourceNames}, which is how cdk/ names them, so nothing in
 * here waits for a deploy-time value.
 *
 * Why in the code and not in the environment: Lambda caps a function's environment variables at 4 KB in
 * total (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html), and every component's
 * variables, webhook, batchStatusRules and access globs pass that with a handful of components. An SSM
 * parameter read at cold start would add a call, an IAM grant and a dependency on SSM at every cold start,
 * and a standard parameter is capped at 4 KB too (advanced: 8 KB). In the bundle the settings change
 * together with the code (a new asset hash, a new function version), so a function never runs with
 * settings of another deploy.
 */
export function bundledRuntimeConfig(config: DeploymentConfig): string {
  const { tableName: _table, bucketName: _bucket, ...bundled } = buildRuntimeConfig(config);
  return JSON.stringify(bundled);
}

/** The settings bundled into a function (cdk/bundling.ts `BUNDLED_CONFIG_GLOBAL`), if this code has them. */
declare const __JOB_SCHEDULER_CONFIG__: string | undefined;
function bundledConfigText(): string | undefined {
  return typeof __JOB_SCHEDULER_CONFIG__ === "string" ? __JOB_SCHEDULER_CONFIG__ : undefined;
}

/**
 * Reads the settings once, at cold start: the bundled part and `TABLE_NAME`/`BUCKET_NAME` from the
 * environment. Fails with the missing or invalid field named.
 */
export function runtimeConfigFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  bundled: string | undefined = bundledConfigText(),
): RuntimeConfig {
  if (!bundled) {
    throw new Error(
      "this code has no bundled deployment settings: cdk/ bundles them with esbuild's define (cdk/bundling.ts)",
    );
  }
  const missing = ["TABLE_NAME", "BUCKET_NAME"].filter((name) => !env[name]);
  if (missing.length) throw new Error(`${missing.join(" and ")} not set`);
  const parsed = runtimeConfigSchema.safeParse({
    ...JSON.parse(bundled),
    tableName: env.TABLE_NAME,
    bucketName: env.BUCKET_NAME,
  });
  if (!parsed.success) {
    throw new Error(
      `the bundled deployment settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}
