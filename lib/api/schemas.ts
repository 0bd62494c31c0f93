import * as z from "zod";
import { canaryJobsOf, MAX_CANARY_JOBS } from "../domain/canary.js";
import { DEPENDENCY_CONDITIONS, MAX_DEPENDENCIES } from "../domain/dependencies.js";
import { isQuantity, parseQuantity } from "../domain/quantity.js";
import { JOB_STATUSES } from "../domain/status.js";

/**
 * Request and response schemas of the API: the single source of validation and of the OpenAPI document.
 * Names and fields follow Radix's published job-scheduler models (equinor/radix-operator,
 * job-scheduler/swaggerui/html/swagger.json). Unknown request fields are ignored, as in Radix.
 */

/** Radix documents a payload of at most 1 MB; counted in UTF-8 bytes of the string. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;
/** Radix caps a batch at 500 jobs; we take 100,000 (submitted as AWS Batch array jobs of ≤10,000). */
export const MAX_BATCH_JOBS = 100_000;

const quantity = z.string().refine(isQuantity, {
  error: (issue) =>
    `'${String(issue.input).slice(0, 40)}' is not a valid quantity (use e.g. 32Mi, 1Gi, 300m, 2)`,
});

export const resourceListSchema = z.object({ cpu: quantity.optional(), memory: quantity.optional() }).meta({
  id: "ResourceList",
  description: "Kubernetes quantities: memory like 32Mi or 1Gi, cpu like 300m or 2",
});

export const resourcesSchema = z
  .object({ limits: resourceListSchema.optional(), requests: resourceListSchema.optional() })
  .meta({ id: "Resources" });

const gpuCount = z
  .union([z.string(), z.number()])
  .refine((value) => /^\d+$/.test(String(value).trim()), {
    error: 'must be a whole number of GPUs, e.g. "1"',
  })
  .transform((value) => String(value).trim());

export const nodeSchema = z
  .object({
    gpu: z
      .string()
      .max(1024)
      .optional()
      .meta({ description: "Comma list of GPU types; a leading '-' excludes a type" }),
    gpuCount: gpuCount.optional().meta({ description: "Minimum number of GPUs" }),
  })
  .meta({ id: "Node" });

export const failurePolicySchema = z
  .object({
    rules: z
      .array(
        z.object({
          action: z.enum(["FailJob", "Ignore", "Count"]),
          onExitCodes: z.object({
            operator: z.enum(["In", "NotIn"]),
            values: z.array(z.number().int().min(0).max(255)).min(1).max(255),
          }),
        }),
      )
      .max(20),
  })
  .meta({ id: "FailurePolicy" });

export const runtimeSchema = z
  .object({
    architecture: z
      .enum(["amd64", "arm64"])
      .optional()
      .meta({
        description:
          "CPU architecture of the job's image; picks a compute of that architecture (Graviton for arm64). " +
          "Default amd64, or the architecture of nodeType when that is set. One no compute offers is a 400",
      }),
    nodeType: z
      .string()
      .max(120)
      .regex(/^(([a-z0-9][-a-z0-9.]*)?[a-z0-9])?$/)
      .optional()
      .meta({
        description:
          "EC2 instance type (g5.2xlarge) or family (c7g): picks the compute whose instance types include it. " +
          "A GPU instance type makes the job a GPU job. One no compute offers is a 400",
      }),
  })
  .meta({ id: "Runtime" });

/** AWS Batch sets AWS_BATCH_JOB_ID, AWS_BATCH_JOB_ARRAY_INDEX, …; a job may not set any of that prefix. */
export const RESERVED_VARIABLE_PREFIX = "AWS_BATCH";

const variableName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be a valid environment variable name" })
  // AWS Batch refuses them in SubmitJob: "Environment variables cannot start with AWS_BATCH. This naming
  // convention is reserved for variables that Batch sets" (API_TaskContainerOverrides).
  .refine((name) => !name.startsWith(RESERVED_VARIABLE_PREFIX), {
    error: `names starting with ${RESERVED_VARIABLE_PREFIX} are reserved for variables that AWS Batch sets`,
  });

/** Fields a batch's defaults and each job can set (Radix RadixJobComponentConfig). */
const componentConfigShape = {
  imageTagName: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, { error: "must be a valid image tag" })
    .optional(),
  image: z.string().max(512).optional(),
  timeLimitSeconds: z
    .number()
    .int()
    .positive()
    .max(14 * 24 * 3600)
    .optional(),
  backoffLimit: z.number().int().min(0).max(1000).optional(),
  resources: resourcesSchema.optional(),
  node: nodeSchema.optional(),
  variables: z.record(variableName, z.string()).optional().meta({ id: "EnvVars" }),
  command: z.array(z.string()).max(256).optional(),
  args: z.array(z.string()).max(256).optional(),
  failurePolicy: failurePolicySchema.optional(),
  runtime: runtimeSchema.optional(),
  preemptible: z
    .boolean()
    .optional()
    .meta({
      description:
        "May run on reclaimable (Spot) capacity, and may then be interrupted and retried: true picks the " +
        "Spot queue of the selected compute, false its on-demand queue; absent: the compute's default " +
        "(on-demand when it has both). A value the selected compute has no capacity for is a 400",
    }),
  project: z
    .string()
    .max(63)
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
      error: "must be a DNS label (lowercase letters, digits, '-')",
    })
    .optional()
    .meta({
      description:
        "Fair-share project: the job's AWS Batch share identifier, weighted as configured. Default: the job " +
        "component. When the deployment lists projects, another name is a 400",
    }),
  runAsUser: z.number().int().min(0).optional(),
  priority: z.number().int().min(0).max(9999).optional().meta({
    description:
      "Beyond Radix: scheduling priority 0..9999 (AWS Batch schedulingPriority); within a project, waiting jobs with a higher priority start first. Change it later with PATCH.",
  }),
  ttlAfterFinish: z
    .number()
    .int()
    .min(0)
    .max(3650 * 86_400)
    .optional()
    .meta({
      description:
        "Beyond Radix (Run:AI ttlAfterFinish): seconds after it ended that the job (for a batch: the whole batch, by its longest ttlAfterFinish) is deleted, instead of the component's retention rule.",
    }),
  safeToRestart: z.boolean().optional(),
};

export const radixJobComponentConfigSchema = z
  .object(componentConfigShape)
  .meta({ id: "RadixJobComponentConfig" });

const payload = z
  .string()
  .refine((text) => Buffer.byteLength(text, "utf8") <= MAX_PAYLOAD_BYTES, {
    error: (issue) =>
      `is ${Buffer.byteLength(String(issue.input), "utf8")} bytes; the limit is ${MAX_PAYLOAD_BYTES} bytes (1 MB)`,
  })
  .meta({ description: "Mounted as the file `payload` in the job component's payload.path" });

/** Beyond Radix: one thing a job or batch waits for (lib/domain/dependencies.ts). */
export const dependencySchema = z
  .strictObject({
    name: z.string().min(1).max(256).meta({
      description:
        "An existing job or batch of this deployment (any job component): a batch name, a single job's name, or the name of one job of a batch",
    }),
    condition: z.enum(DEPENDENCY_CONDITIONS).optional().meta({
      description:
        "succeeded (default; Slurm afterok): it must end Succeeded. failed (afternotok): Failed or DeadlineExceeded. ended (afterany): either. A dependency that is stopped or deleted meets none, and the dependent ends Stopped",
    }),
    elementwise: z.boolean().optional().meta({
      description:
        "For a batch that depends on a batch of the same size: job i waits only for job i (AWS Batch N_TO_N), instead of the whole batch",
    }),
  })
  .meta({ id: "Dependency" });

const dependsOnSchema = z
  .array(dependencySchema)
  .min(1)
  .max(MAX_DEPENDENCIES)
  .meta({
    description: `Beyond Radix (Slurm --dependency): what this waits for, at most ${MAX_DEPENDENCIES}. It stays Waiting (statusReason says for what) and is submitted when every condition is met; when one can no longer be met it ends Stopped with a message naming it. Only existing jobs and batches can be named, so there are no cycles.`,
  });

export const jobScheduleDescriptionSchema = z
  .object({
    ...componentConfigShape,
    payload: payload.optional(),
    jobId: z.string().max(256).optional(),
    dependsOn: dependsOnSchema.optional(),
  })
  .meta({ id: "JobScheduleDescription" });

/**
 * Beyond Radix: a batch-level stop rule (lib/domain/stop-policy.ts). Not `failurePolicy`: that is
 * Radix's job-level exit-code rule set, accepted per job and in defaultRadixJobComponentConfig.
 */
export const stopPolicySchema = z
  .strictObject({
    maxFailedJobs: z.number().int().min(0).max(MAX_BATCH_JOBS).optional().meta({
      description:
        "Stop the rest of the batch as soon as more than this many jobs failed (Failed or DeadlineExceeded; retries that are left do not count). 0: the first failure stops it.",
    }),
    minSucceededJobs: z.number().int().min(1).max(MAX_BATCH_JOBS).optional().meta({
      description:
        "Stop the rest of the batch as soon as fewer than this many jobs can still succeed (jobs Failed, DeadlineExceeded or Stopped count against it). At most the number of jobs.",
    }),
  })
  .refine((policy) => policy.maxFailedJobs !== undefined || policy.minSucceededJobs !== undefined, {
    error: "names neither maxFailedJobs nor minSucceededJobs",
  })
  .meta({
    id: "StopPolicy",
    description:
      "Beyond Radix (Kubernetes maxFailedIndexes, OpenPAI minFailedInstances/minSucceededInstances): when a threshold can no longer be met, the scheduler stops the rest of the batch (jobs not yet started never start) and the batch ends Failed with a message naming the threshold.",
  });

export const canarySchema = z
  .strictObject({
    jobs: z
      .number()
      .int()
      .min(1)
      .max(MAX_CANARY_JOBS)
      .optional()
      .meta({
        description: `The first this many jobs (in request order) are the canary; at most ${MAX_CANARY_JOBS}.`,
      }),
    percent: z
      .number()
      .gt(0)
      .lt(100)
      .optional()
      .meta({ description: "This percentage of the batch's jobs (rounded up, at least 1) are the canary." }),
  })
  .refine((canary) => (canary.jobs === undefined) !== (canary.percent === undefined), {
    error: "names exactly one of jobs and percent",
  })
  .meta({
    id: "Canary",
    description:
      "Beyond Radix: the batch's first jobs run first; the rest are submitted only when every one of them Succeeded. When one ends otherwise, the batch ends Failed before the rest costs anything.",
  });

export const batchScheduleDescriptionSchema = z
  .object({
    batchId: z.string().max(256).optional(),
    defaultRadixJobComponentConfig: radixJobComponentConfigSchema.optional(),
    jobScheduleDescriptions: z.array(jobScheduleDescriptionSchema).min(1).max(MAX_BATCH_JOBS),
    stopPolicy: stopPolicySchema.optional(),
    canary: canarySchema.optional(),
    maxParallel: z.number().int().min(1).max(MAX_BATCH_JOBS).optional().meta({
      description:
        "Beyond Radix (Slurm --array=…%N, Google Batch parallelism): at most this many of the batch's jobs run at once; the rest wait (Waiting, with a statusReason). An AWS Batch consumable resource of this quantity, created for the batch and deleted when it ends.",
    }),
    dependsOn: dependsOnSchema.optional(),
  })
  .superRefine((batch, context) => {
    const size = batch.jobScheduleDescriptions.length;
    const perJob = batch.jobScheduleDescriptions.findIndex((job) => job.dependsOn !== undefined);
    if (perJob >= 0) {
      context.addIssue({
        code: "custom",
        path: ["jobScheduleDescriptions", perJob, "dependsOn"],
        message:
          "a batch's jobs wait for what the batch waits for: set dependsOn on the batch (with elementwise: true for job i to wait for job i of another batch)",
      });
    }
    if (batch.canary && batch.dependsOn?.some((dependency) => dependency.elementwise)) {
      context.addIssue({
        code: "custom",
        path: ["canary"],
        message:
          "cannot be combined with an elementwise dependsOn (its jobs start one by one, not canary first)",
      });
    }
    if (batch.canary && canaryJobsOf(batch.canary, size) >= size) {
      context.addIssue({
        code: "custom",
        path: ["canary"],
        message: `takes ${canaryJobsOf(batch.canary, size)} of the batch's ${size} jobs; a canary must leave some jobs for after it`,
      });
    }
    const min = batch.stopPolicy?.minSucceededJobs;
    if (min !== undefined && min > batch.jobScheduleDescriptions.length) {
      context.addIssue({
        code: "custom",
        path: ["stopPolicy", "minSucceededJobs"],
        message: `is ${min}, more than the batch's ${batch.jobScheduleDescriptions.length} jobs`,
      });
    }
  })
  .meta({ id: "BatchScheduleDescription" });

/** PATCH /jobs/{name} and /batches/{name}: what can change after creation. */
export const priorityChangeSchema = z
  .object({
    priority: z
      .number()
      .int()
      .min(0)
      .max(9999)
      .meta({ description: "New scheduling priority of the waiting jobs (0..9999, higher first)" }),
  })
  .meta({ id: "PriorityChange" });

export type ResourceList = z.infer<typeof resourceListSchema>;
export type Resources = z.infer<typeof resourcesSchema>;
export type RadixJobComponentConfig = z.infer<typeof radixJobComponentConfigSchema>;
export type JobScheduleDescription = z.infer<typeof jobScheduleDescriptionSchema>;
export type BatchScheduleDescription = z.infer<typeof batchScheduleDescriptionSchema>;

// ---- Responses ----

const time = z.string().nullable().meta({ description: "RFC 3339 UTC time, null when not (yet) set" });

export const podStatusSchema = z
  .object({
    name: z.string(),
    created: time,
    startTime: time,
    endTime: time,
    containerStarted: time,
    replicaStatus: z.object({ status: z.string() }),
    image: z.string().optional(),
    imageId: z.string().optional(),
    podIndex: z.number().int(),
    exitCode: z.number().int().optional(),
    reason: z.string().optional(),
    statusMessage: z.string().optional(),
    restartCount: z.number().int().optional(),
    /** Beyond Radix: whose failure this attempt was (OpenPAI retryDetails). */
    failureKind: z.enum(["user", "platform"]).optional(),
    /**
     * Beyond Radix: set on the first pod status when a job's older attempts were summarized (a job keeps
     * its current run's attempts and the 10 before them in full): how many earlier attempts are not
     * listed one by one. That first pod status is the first failure among them.
     */
    summarizedAttempts: z.number().int().optional(),
  })
  .meta({ id: "PodStatus" });

export const jobStatusSchema = z
  .object({
    name: z.string(),
    jobId: z.string().optional(),
    batchName: z.string().optional(),
    batchId: z.string().optional(),
    created: time,
    started: time,
    ended: time,
    updated: time,
    status: z.enum(JOB_STATUSES),
    message: z.string().optional(),
    failed: z.number().int(),
    restart: z.string().optional(),
    podStatuses: z.array(podStatusSchema),
    /** Beyond Radix ("why is it waiting"): the AWS Batch status and its reason. */
    batchJobStatus: z.string().optional(),
    statusReason: z.string().optional(),
    exitCode: z.number().int().optional(),
    /** Beyond Radix: seconds spent waiting (created → first start) and running (first start → end or now). */
    phaseSeconds: z.object({ waiting: z.number(), running: z.number() }).optional(),
    /** Beyond Radix: the project (fair-share identifier) it was submitted to, when one was named. */
    project: z.string().optional(),
    /** Beyond Radix: the priority asked with PATCH after creation. */
    priority: z.number().int().optional(),
    /** Beyond Radix: who created it (IAM principal ARN in AWS; the token's principal locally). */
    submittedBy: z.string().optional(),
    /** Beyond Radix: what a single job or a batch waits for, with each condition (as created). */
    dependsOn: z
      .array(
        z.object({
          name: z.string(),
          condition: z.enum(DEPENDENCY_CONDITIONS),
          elementwise: z.boolean().optional(),
        }),
      )
      .optional(),
    /** Beyond Radix: when its dependencies on whole jobs and batches were met (null: not yet). */
    dependenciesMet: time.optional(),
  })
  .meta({ id: "JobStatus" });

export const batchStatusSchema = z
  .object({
    ...jobStatusSchema.shape,
    status: z.string(),
    batchType: z.enum(["job", "batch"]),
    jobStatuses: z.array(jobStatusSchema),
    /** Beyond Radix: counts of the batch's jobs by status. */
    jobCounts: z.record(z.string(), z.number().int()).optional(),
    totalJobs: z.number().int().optional(),
    /** Present when jobStatuses was paged (`limit`); pass it back as `nextToken`. */
    nextToken: z.string().optional(),
    /** Beyond Radix: the batch's stopPolicy as created (its `message` says when it stopped the batch). */
    stopPolicy: stopPolicySchema.optional(),
    /** Beyond Radix: the batch's canary, with `jobs` resolved, and when it passed (null: not yet). */
    canary: z.object({ jobs: z.number().int(), percent: z.number().optional(), passed: time }).optional(),
    /** Beyond Radix: at most this many of the batch's jobs run at once. */
    maxParallel: z.number().int().optional(),
  })
  .meta({ id: "BatchStatus" });

export const statusSchema = z
  .object({
    status: z.enum(["Success", "Failure"]),
    message: z.string(),
    reason: z.string().optional(),
    code: z.number().int(),
  })
  .meta({ id: "Status" });

export type PodStatus = z.infer<typeof podStatusSchema>;
export type JobStatus = z.infer<typeof jobStatusSchema>;
export type BatchStatus = z.infer<typeof batchStatusSchema>;
export type Status = z.infer<typeof statusSchema>;

/** CPU cores of a quantity already validated by the schema. */
export const cores = (text: string): number => parseQuantity(text) ?? 0;
