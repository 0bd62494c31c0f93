import * as z from "zod";
import type { DeploymentConfig, JobComponentConfig } from "./schema.js";

/**
 * What a running function needs to know about its deployment, derived once from the configuration file.
 * In AWS it reaches the functions as the JSON environment variable `RUNTIME_CONFIG` (set by cdk/); in the
 * local stack it is built in-process. Lambda environment variables are capped at 4 KB in total, so this
 * holds names, not documents.
 */
export const queueSettingsSchema = z.object({
  /** `cpu` or the GPU family (`g5`). */
  key: z.string(),
  /** Job queue name or ARN, as SubmitJob takes it. */
  queue: z.string(),
  /** GPU type names this queue offers (empty for the CPU queue). */
  gpuTypes: z.array(z.string()),
  maxGpusPerInstance: z.number().int().nonnegative(),
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
  variables: z.record(z.string(), z.string()).optional(),
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
});

export type QueueSettings = z.infer<typeof queueSettingsSchema>;
export type ComponentSettings = z.infer<typeof componentSettingsSchema>;
export type RuntimeConfig = z.infer<typeof runtimeConfigSchema>;

/** Resource names derived from the configuration; cdk/ and the local stack use the same ones. */
export const resourceNames = {
  table: (app: string) => `${app}-jobs`,
  bucket: (app: string) => `${app}-payloads`,
  queue: (app: string, key: string) => `${app}-${key}`,
  jobDefinition: (app: string, component: string) => `${app}-${component}`,
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
    variables: job.variables,
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
    queues: [
      { key: "cpu", queue: queueName("cpu"), gpuTypes: [], maxGpusPerInstance: 0 },
      ...config.aws.gpuFamilies.map((family) => ({
        key: family.family,
        queue: queueName(family.family),
        gpuTypes: family.gpuTypes,
        maxGpusPerInstance: family.maxGpusPerInstance,
      })),
    ],
    components: config.spec.jobs.map((job) => componentSettings(app, job)),
    access: accessOf(config),
  };
}

/** Reads `RUNTIME_CONFIG` from the environment once, failing at cold start with the field named. */
export function runtimeConfigFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const text = env.RUNTIME_CONFIG;
  if (!text) throw new Error("RUNTIME_CONFIG is not set");
  const parsed = runtimeConfigSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(
      `RUNTIME_CONFIG is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
    );
  }
  return parsed.data;
}
