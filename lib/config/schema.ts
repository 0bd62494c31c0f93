import * as z from "zod";
import { type JobComponentConfig, resolveJobComponent } from "./environment.js";
import {
  ARCHITECTURES,
  type Architecture,
  type BatchStatusRule,
  radixJobComponentSchema,
} from "./radix-job.js";

/**
 * The deployment configuration: one YAML file shaped like radixconfig's `spec.jobs`
 * (https://radix.equinor.com/radix-config#jobs), plus an `aws:` section for what Radix does not know and,
 * per job component, a `local:` section saying how the job runs on a laptop.
 * The same file drives `npm start` (local stack) and `npx cdk deploy`.
 */

export {
  ARCHITECTURES,
  type Architecture,
  batchStatusRuleSchema,
  jobRuntimeSchema,
  localJobSchema,
  nodeConfigSchema,
  resourceListSchema,
  resourcesConfigSchema,
  retentionSchema,
} from "./radix-job.js";

/**
 * Which capacity a compute offers: one compute environment and job queue for on-demand, one for Spot, or
 * both (then a request's `preemptible` picks the queue; without it the on-demand one).
 */
export const CAPACITIES = ["onDemand", "spot", "both"] as const;
export type Capacity = (typeof CAPACITIES)[number];

/** Graviton instance families (arm64): a1, c7g, c7gn, m7gd, r8g, t4g, x2gd, im4gn, is4gen, hpc7g, g5g. */
const GRAVITON_FAMILY = /^(a1|[a-z]+\d+g[a-z]*)$/;

/**
 * The architecture of an entry of `instanceTypes`: a size (`c7g.large`), a family (`c7g`) or one of
 * Batch's keywords (`optimal`, `default_x86_64`: x86; `default_arm64`: Graviton).
 */
export function instanceArchitecture(name: string): Architecture {
  if (name === "default_arm64") return "arm64";
  if (name === "optimal" || name === "default_x86_64") return "amd64";
  return GRAVITON_FAMILY.test(name.split(".")[0] ?? "") ? "arm64" : "amd64";
}

/** Fields every compute (the CPU ones and each GPU family) has for architecture and capacity. */
const computeFields = {
  /** Default: from `instanceTypes` (Graviton families are arm64), else amd64. */
  architecture: z.enum(ARCHITECTURES).optional(),
  capacity: z.enum(CAPACITIES).optional(),
  /** The older form of `capacity`: `true` is `capacity: spot`, `false` is `capacity: onDemand`. */
  spot: z.boolean().optional(),
};

/**
 * Refuses what one compute environment cannot be: `spot` together with `capacity`, and instance types of
 * two architectures (a job's image is built for one).
 */
function checkCompute(
  value: { instanceTypes?: string[]; architecture?: Architecture; capacity?: Capacity; spot?: boolean },
  ctx: z.core.$RefinementCtx,
) {
  if (value.capacity !== undefined && value.spot !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["spot"],
      message: "set capacity (onDemand, spot or both) or the older spot, not both",
    });
  }
  const types = value.instanceTypes ?? [];
  const wrong = value.architecture
    ? types.filter((type) => instanceArchitecture(type) !== value.architecture)
    : [];
  if (wrong.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["instanceTypes"],
      message: `${wrong.join(", ")} ${wrong.length > 1 ? "are not" : "is not"} ${value.architecture}`,
    });
  } else if (!value.architecture && new Set(types.map(instanceArchitecture)).size > 1) {
    const arm = types.filter((type) => instanceArchitecture(type) === "arm64");
    ctx.addIssue({
      code: "custom",
      path: ["instanceTypes"],
      message: `mixes arm64 (${arm.join(", ")}) and amd64 instance types; one compute environment runs one architecture`,
    });
  }
}

/** `architecture` and `capacity` resolved, `spot` folded into `capacity`. */
function resolveCompute<T extends { instanceTypes: string[]; spot?: boolean; capacity?: Capacity }>(
  value: T & { architecture?: Architecture },
) {
  const { spot, capacity, architecture, ...rest } = value;
  return {
    ...rest,
    architecture: architecture ?? instanceArchitecture(value.instanceTypes[0] ?? "optimal"),
    capacity: capacity ?? (spot ? "spot" : "onDemand"),
  } as Omit<T, "spot" | "capacity" | "architecture"> & { architecture: Architecture; capacity: Capacity };
}

/** A queue key: it names the job queue `<app>-<key>`. */
const computeName = z
  .string()
  .regex(/^[a-z]([a-z0-9-]*[a-z0-9])?$/, "must be lowercase letters, digits and '-'")
  .max(40);

export const gpuFamilySchema = z
  .object({
    /** EC2 instance family, e.g. `g5`. A compute environment and job queue are made per capacity. */
    family: z.string().regex(/^[a-z][a-z0-9]*$/, "must be an EC2 instance family like g5"),
    /** Queue key when two entries share a family (e.g. one per size); default: the family. */
    name: computeName.optional(),
    /** GPU type names that select this family in `node.gpu` (e.g. `nvidia-a10g`). */
    gpuTypes: z.array(z.string().min(1)).min(1),
    instanceTypes: z.array(z.string().min(1)).min(1),
    /** The most GPUs any of `instanceTypes` has; a request for more is refused at submit (never stuck RUNNABLE). */
    maxGpusPerInstance: z.number().int().positive(),
    maxvCpus: z.number().int().positive().default(256),
    ...computeFields,
  })
  .superRefine(checkCompute)
  .transform(({ name, ...family }) => ({ ...resolveCompute(family), name: name ?? family.family }));

export const cpuComputeSchema = z
  .object({
    /** Queue key; default `cpu` (amd64) or `cpu-arm64`. */
    name: computeName.optional(),
    /** Sizes, families or Batch's keywords; default `optimal` (amd64) or `default_arm64`. */
    instanceTypes: z.array(z.string().min(1)).min(1).optional(),
    maxvCpus: z.number().int().positive().default(256),
    ...computeFields,
  })
  .superRefine(checkCompute)
  .transform(({ name, instanceTypes, ...compute }) => {
    const types = instanceTypes ?? (compute.architecture === "arm64" ? ["default_arm64"] : ["optimal"]);
    const resolved = resolveCompute({ ...compute, instanceTypes: types });
    return { ...resolved, name: name ?? (resolved.architecture === "arm64" ? "cpu-arm64" : "cpu") };
  });

/**
 * AWS Batch fair share: weightFactor is 0.0001..999.9999 and a lower factor gets more capacity; weights
 * map to `largest weight / weight`, so the largest may be at most this many times the smallest.
 */
export const MAX_WEIGHT_SPAN = 999;
/** A queue's fair-share policy tracks at most 500 active share identifiers (AWS Batch SubmitJob). */
export const MAX_SHARE_IDENTIFIERS = 500;

export const awsSchema = z.object({
  region: z.string().default("eu-west-1"),
  /**
   * The Radix environment this deployment is (radixconfig `environmentConfig[].environment`): its entries
   * override the job components' common fields. `npm start -- --environment` and `cdk -c environment=`
   * override it.
   */
  environment: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Radix environment name")
    .optional(),
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
  /**
   * The CPU computes: one object (as before) or a list, e.g. an amd64 one and an arm64 (Graviton) one.
   * Requests pick among them by `runtime.architecture` and `runtime.nodeType`.
   */
  cpu: z
    .preprocess((value) => (Array.isArray(value) ? value : [value]), z.array(cpuComputeSchema).min(1))
    .prefault([{}]),
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
  /**
   * Share of capacity relative to the other projects and to job components without a project (weight 1);
   * higher = more (AWS Batch fair-share weightFactor = largest weight / weight).
   */
  weight: z.number().positive().default(1),
  /**
   * At most this many of the project's jobs run at once (all its batches and single jobs together): an
   * AWS Batch consumable resource of this quantity, named on every job of the project (lib/config/runtime.ts).
   */
  maxRunningJobs: z.number().int().min(1).max(1_000_000).optional(),
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

export const deploymentConfigSchema = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    metadata: z.object({ name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/) }),
    spec: z.object({
      /** Radix's environments; when listed, aws.environment must be one of them. */
      environments: z.array(z.object({ name: z.string() }).loose()).optional(),
      jobs: z.array(radixJobComponentSchema).min(1),
    }),
    aws: awsSchema.prefault({}),
    /** Fair-share projects; when any are listed, a request may only name these. */
    projects: z.array(projectSchema).default([]),
    auth: authSchema.prefault({}),
  })
  .transform(({ spec, ...config }, ctx) => {
    const { environment } = config.aws;
    const environments = spec.environments?.map((entry) => entry.name);
    if (environment && environments && !environments.includes(environment)) {
      ctx.addIssue({
        code: "custom",
        path: ["aws", "environment"],
        message: `'${environment}' is not one of spec.environments (${environments.join(", ")})`,
      });
    }
    const jobs = spec.jobs
      .map((job, index) => resolveJobComponent(job, index, environment, ctx))
      .filter((job): job is JobComponentConfig => job !== undefined);
    if (jobs.length === 0) {
      ctx.addIssue({
        code: "custom",
        path: ["spec", "jobs"],
        message: `no job component is enabled${environment ? ` in environment ${environment}` : ""}`,
      });
    }
    return { ...config, spec: { jobs } };
  });

export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;
export type { JobComponentConfig };
export type GpuFamilyConfig = z.infer<typeof gpuFamilySchema>;
export type CpuComputeConfig = z.infer<typeof cpuComputeSchema>;
export type ProjectConfig = z.infer<typeof projectSchema>;
export type AwsConfig = z.infer<typeof awsSchema>;
export type { BatchStatusRule };
