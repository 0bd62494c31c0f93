import * as z from "zod";

/**
 * The deployment configuration: one YAML file shaped like radixconfig's `spec.jobs`
 * (https://radix.equinor.com/radix-config#jobs), plus an `aws:` section for what Radix does not know and,
 * per job component, a `local:` section saying how the job runs on a laptop.
 * The same file drives `npm start` (local stack) and `npx cdk deploy`.
 */

/** Kubernetes quantity as Radix accepts it: `32Mi`, `1Gi`, `300m`, `2`, `0.5`. Parsed in lib/domain/quantity. */
const quantity = z.string().min(1);

export const resourceListSchema = z.object({ cpu: quantity.optional(), memory: quantity.optional() });
export const resourcesConfigSchema = z.object({
  requests: resourceListSchema.optional(),
  limits: resourceListSchema.optional(),
});

export const nodeConfigSchema = z.object({
  /** Comma list of GPU types; a leading `-` excludes a type (Radix `node.gpu`). */
  gpu: z.string().optional(),
  gpuCount: z.union([z.string(), z.number().int().nonnegative()]).optional(),
});

export const batchStatusRuleSchema = z.object({
  /** Radix job-scheduler code: `All` or `Any` of the jobs must have a status `In`/`NotIn` the list. */
  condition: z.enum(["All", "Any"]),
  operator: z.enum(["In", "NotIn"]),
  jobStatuses: z.array(z.string()).min(1),
  batchStatus: z.string(),
});

export const retentionSchema = z.object({
  /** Radix keeps the 10 latest Succeeded and 10 latest Failed jobs and batches. */
  succeeded: z.number().int().min(0).default(10),
  failed: z.number().int().min(0).default(10),
  /** Upper bound on how long any finished record (and its payload object) is kept, via DynamoDB TTL and S3 lifecycle. */
  maxAgeDays: z.number().int().min(1).max(3650).default(30),
});

export const localJobSchema = z.object({
  /** The command that stands in for the container image on a laptop; the payload file is delivered as in AWS. */
  command: z.array(z.string().min(1)).min(1),
  /** Extra environment for the local process. */
  environment: z.record(z.string(), z.string()).default({}),
});

export const jobComponentSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be lowercase letters, digits and '-' (a DNS label)")
    .max(40),
  /** Container image; `{imageTagName}` in it is replaced by the job's imageTagName (Radix convention). */
  image: z.string().min(1).optional(),
  imageTagName: z.string().min(1).default("latest"),
  schedulerPort: z.number().int().min(1).max(65535),
  payload: z.object({ path: z.string().startsWith("/", "must be an absolute path") }).optional(),
  resources: resourcesConfigSchema.optional(),
  node: nodeConfigSchema.optional(),
  /** Radix default: 43200 s (12 h). */
  timeLimitSeconds: z.number().int().positive().default(43200),
  backoffLimit: z.number().int().min(0).default(0),
  notifications: z.object({ webhook: z.url() }).optional(),
  batchStatusRules: z.array(batchStatusRuleSchema).optional(),
  variables: z.record(z.string(), z.string()).optional(),
  retention: retentionSchema.prefault({}),
  local: localJobSchema.optional(),
});

export const gpuFamilySchema = z.object({
  /** EC2 instance family, e.g. `g5`. One compute environment and one job queue are made per family. */
  family: z.string().regex(/^[a-z][a-z0-9]*$/, "must be an EC2 instance family like g5"),
  /** GPU type names that select this family in `node.gpu` (e.g. `nvidia-a10g`). */
  gpuTypes: z.array(z.string().min(1)).min(1),
  instanceTypes: z.array(z.string().min(1)).min(1),
  /** The most GPUs any of `instanceTypes` has; a request for more is refused at submit (never stuck RUNNABLE). */
  maxGpusPerInstance: z.number().int().positive(),
  maxvCpus: z.number().int().positive().default(256),
  spot: z.boolean().default(false),
});

export const awsSchema = z.object({
  region: z.string().default("eu-west-1"),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  network: z
    .object({
      /** Use an existing VPC; when absent, one is created. */
      vpcId: z.string().optional(),
      subnetIds: z.array(z.string()).optional(),
      /** An existing execute-api interface endpoint to admit; when absent, one is created in the VPC. */
      executeApiEndpointId: z.string().optional(),
    })
    .prefault({}),
  api: z
    .object({
      iamAuth: z.boolean().default(false),
      throttlingRateLimit: z.number().positive().default(100),
      throttlingBurstLimit: z.number().int().positive().default(200),
      /** How long an Idempotency-Key on POST /jobs and /batches is remembered. */
      idempotencyWindowSeconds: z.number().int().positive().default(86_400),
    })
    .prefault({}),
  functions: z
    .object({
      reservedConcurrency: z.number().int().positive().optional(),
      provisionedConcurrency: z.number().int().positive().optional(),
      tracing: z.boolean().default(false),
    })
    .prefault({}),
  gpuFamilies: z.array(gpuFamilySchema).default([]),
  cpu: z
    .object({
      instanceTypes: z.array(z.string()).default(["optimal"]),
      maxvCpus: z.number().int().positive().default(256),
      spot: z.boolean().default(false),
    })
    .prefault({}),
  /** Image used by the payload-fetch container that puts the payload file in place before the job starts. */
  payloadFetchImage: z.string().default("public.ecr.aws/docker/library/node:22-alpine"),
});

const principalList = z
  .array(z.string().min(1))
  .meta({ description: "IAM principal ARNs (AWS) or token principals (local); `*` matches any characters" });

/** A project: a fair-share identifier and who may use it (OpenPAI virtual clusters, Run:AI projects). */
export const projectSchema = z.object({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be lowercase letters, digits and '-' (a DNS label)")
    .max(63),
  /** Share of capacity relative to the other projects (higher = more); AWS Batch fair-share weight. */
  weight: z.number().positive().max(10_000).default(1),
  /** Who may submit to the project; absent: every caller the API admits. */
  submit: principalList.optional(),
  /** Who may stop, restart, reprioritize and delete its jobs; absent: the `submit` list. */
  stop: principalList.optional(),
});

export const authSchema = z.object({
  /**
   * Local stack only: bearer token → principal. In AWS callers are identified by IAM (aws.api.iamAuth);
   * these tokens never reach a deployed function.
   */
  localTokens: z.record(z.string().min(8), z.string().min(1)).optional(),
});

export const deploymentConfigSchema = z.object({
  apiVersion: z.string().optional(),
  kind: z.string().optional(),
  metadata: z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) }),
  spec: z.object({ jobs: z.array(jobComponentSchema).min(1) }),
  aws: awsSchema.prefault({}),
  projects: z.array(projectSchema).default([]),
  auth: authSchema.prefault({}),
});

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;
export type JobComponentConfig = z.infer<typeof jobComponentSchema>;
export type GpuFamilyConfig = z.infer<typeof gpuFamilySchema>;
export type AwsConfig = z.infer<typeof awsSchema>;
export type ProjectConfig = z.infer<typeof projectSchema>;
export type BatchStatusRule = z.infer<typeof batchStatusRuleSchema>;
