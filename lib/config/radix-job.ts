import * as z from "zod";
import { failurePolicySchema, jobScheduleDescriptionSchema } from "../api/schemas.js";

/**
 * Radix's job component as radixconfig.yaml writes it: every field of `RadixJobComponent` and
 * `RadixJobComponentEnvironmentConfig` (equinor/radix-operator, pkg/apis/radix/v1/radixapptypes.go) is
 * either read here and made to work on AWS, or refused with a message that names the field and the AWS
 * way to get the same thing. An unknown field is refused too: a field silently dropped is a job that
 * silently runs without what it depends on. lib/config/environment.ts merges the deployment's Radix
 * environment over the common fields; the README's configuration reference has one row per field.
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

/** CPU architectures, named as Radix's `runtime.architecture` names them. */
export const ARCHITECTURES = ["amd64", "arm64"] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

/** Radix `runtime`: the job's CPU architecture (default amd64) and the node type (an EC2 instance type or family). */
export const jobRuntimeSchema = z.object({
  architecture: z.enum(ARCHITECTURES).optional(),
  nodeType: z.string().min(1).optional(),
});

export const batchStatusRuleSchema = z.object({
  /** Radix job-scheduler code: `All` or `Any` of the jobs must have a status `In`/`NotIn` the list. */
  condition: z.enum(["All", "Any"]),
  operator: z.enum(["In", "NotIn"]),
  jobStatuses: z.array(z.string()).min(1),
  batchStatus: z.string(),
});

/** A field that has no AWS meaning: any value but an empty one is refused with `message`. */
function refused(message: string, isEmpty: (value: unknown) => boolean = () => false) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value === null || isEmpty(value)) return;
      ctx.addIssue({ code: "custom", message });
    })
    .optional();
}
const emptyList = (value: unknown) => Array.isArray(value) && value.length === 0;
const emptyObject = (value: unknown) =>
  typeof value === "object" &&
  value !== null &&
  Object.values(value).every((v) => v === undefined || v === "");

/** Unknown keys named, with where to look: strict objects so nothing is dropped without a word. */
const strict = <T extends z.core.$ZodLooseShape>(shape: T, what: string) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `${issue.keys.map((key) => `'${key}'`).join(", ")} ${issue.keys.length > 1 ? "are not fields" : "is not a field"} of ${what} (README: Configuration reference)`
        : undefined,
  });

export const IMAGE_HINT =
  "name a built image instead: image: <account>.dkr.ecr.<region>.amazonaws.com/<repository>:{imageTagName} " +
  "(build and push it in your CI; {imageTagName} is replaced by imageTagName, as in Radix)";

/** Radix `secrets` names (radixapptypes.go: items pattern), the environment variables they become. */
const secretName = z
  .string()
  .regex(
    /^[A-Za-z0-9]([-._A-Za-z0-9]*[A-Za-z0-9])?$/,
    "must be letters, digits, '-', '.', '_' (Radix secret name)",
  );

/** Where an existing secret lives, as AWS Batch's `secrets[].valueFrom` takes it. */
const SECRET_SOURCE =
  /^(arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+|arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter\/.+|[A-Za-z0-9_.\-/]{1,2048})$/;
export const secretSourceSchema = z
  .string()
  .regex(
    SECRET_SOURCE,
    "must be a Secrets Manager secret ARN (optionally with :json-key:: for one key), an SSM parameter ARN or an SSM parameter name",
  );

/** `identity.aws`: what the component's own job role (the ECS task role) may do beyond reading its payloads. */
export const iamStatementSchema = strict(
  {
    effect: z.enum(["Allow", "Deny"]).default("Allow"),
    actions: z.array(z.string().regex(/^[a-z0-9-]+:[A-Za-z0-9*?]+$/, "must be service:Action")).min(1),
    resources: z.array(z.string().min(1)).min(1),
    conditions: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
  },
  "an IAM statement (effect, actions, resources, conditions)",
);
export const awsIdentitySchema = strict(
  {
    /** Managed policies attached to the job role. */
    policyArns: z
      .array(z.string().regex(/^arn:aws[a-z-]*:iam::(aws|\d{12}):policy\/.+$/, "must be an IAM policy ARN"))
      .optional(),
    statements: z.array(iamStatementSchema).optional(),
  },
  "identity.aws (policyArns, statements)",
);
export const identitySchema = strict(
  {
    azure: refused(
      "Azure workload identity has no meaning on AWS. Give the job its AWS permissions with identity.aws " +
        "(policyArns: [arn:aws:iam::aws:policy/...] or statements: [{actions, resources}]); they go to the " +
        "component's own job role, the ECS task role whose credentials the job's AWS SDK picks up",
    ),
    aws: awsIdentitySchema.optional(),
  },
  "identity (aws; azure is refused)",
);

const AZURE_VOLUME =
  "Azure storage volumes cannot be mounted on AWS Batch. Put the data on Amazon EFS and mount it with " +
  "efs: {fileSystemId: fs-..., accessPointId: fsap-..., securityGroupId: sg-... of the mount targets, readOnly: true} " +
  "(type: aws-efs), or read it from S3 inside the job";
const azureVolumeField = refused(AZURE_VOLUME);

export const efsVolumeSchema = strict(
  {
    fileSystemId: z.string().regex(/^fs-[0-9a-f]{8,40}$/, "must be an EFS file system id (fs-...)"),
    /** An EFS access point (its root directory and POSIX user apply); IAM authorization is always on. */
    accessPointId: z
      .string()
      .regex(/^fsap-[0-9a-f]{8,40}$/, "must be an EFS access point id (fsap-...)")
      .optional(),
    /** Folder of the file system to mount; with an access point the access point's root applies. */
    rootDirectory: z.string().startsWith("/", "must be an absolute path").optional(),
    readOnly: z.boolean().optional(),
    /** Security group of the file system's mount targets: the stack admits NFS (2049) from the Batch hosts. */
    securityGroupId: z.string().regex(/^sg-[0-9a-f]{8,40}$/, "must be a security group id (sg-...)"),
  },
  "volumeMounts[].efs (fileSystemId, accessPointId, rootDirectory, readOnly, securityGroupId)",
);

/** A Radix volume mount, with the AWS type `aws-efs` added; the Azure types are refused. */
export const volumeMountSchema = strict(
  {
    name: z.string().min(1).max(40),
    path: z.string().startsWith("/", "must be an absolute path").optional(),
    type: z
      .string()
      .superRefine((value, ctx) => {
        if (value === "aws-efs" || value === "") return;
        ctx.addIssue({
          code: "custom",
          message: `'${value}': ${value.includes("azure") || value === "blob" ? AZURE_VOLUME : "the AWS type is aws-efs"}`,
        });
      })
      .optional(),
    efs: efsVolumeSchema.partial().optional(),
    emptyDir: strict({ sizeLimit: quantity }, "volumeMounts[].emptyDir (sizeLimit)").optional(),
    blobFuse2: azureVolumeField,
    storage: azureVolumeField,
    container: azureVolumeField,
    gid: azureVolumeField,
    uid: azureVolumeField,
    requestsStorage: azureVolumeField,
    accessMode: azureVolumeField,
  },
  "a volume mount (name, path, type: aws-efs, efs, emptyDir)",
);

export const CONCURRENCY_POLICIES = ["Allow", "Forbid", "Replace"] as const;

/**
 * Beyond Radix's `cron` (one time zone and concurrency for a list of expressions): each schedule with its
 * own time zone, payload and job fields, like a Kubernetes CronJob's jobTemplate.
 */
export const scheduleEntrySchema = strict(
  {
    /** Names the EventBridge Scheduler schedule and labels the jobs (jobId default). */
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be lowercase letters, digits and '-'")
      .max(40)
      .optional(),
    /** Five-field cron expression or macro, as a Kubernetes CronJob's `schedule`. */
    cron: z.string().min(1),
    /** IANA time zone, as a Kubernetes CronJob's `timeZone`. */
    timeZone: z.string().min(1).optional(),
    /** Kubernetes CronJob concurrencyPolicy: Allow (default), Forbid (skip while one runs), Replace (stop it first). */
    concurrencyPolicy: z.enum(CONCURRENCY_POLICIES).optional(),
    payload: z.string().optional(),
    /** Fields of a job request (POST /jobs), without the payload: imageTagName, variables, resources, ... */
    job: jobScheduleDescriptionSchema.omit({ payload: true, dependsOn: true }).optional(),
  },
  "a schedule (name, cron, timeZone, concurrencyPolicy, payload, job)",
);

/** Radix's `cron` (radixapptypes.go CronSchedule). */
export const radixCronSchema = strict(
  {
    timeZone: z.string().min(1).optional(),
    schedules: z.array(z.string().min(1)).min(1).max(20),
    concurrency: z.enum(CONCURRENCY_POLICIES),
  },
  "cron (timeZone, schedules, concurrency)",
);

const MONITORING =
  "AWS Batch jobs are not scraped by Prometheus; publish metrics from the job instead (CloudWatch embedded " +
  "metric format lines in its output become metrics, or push with the CloudWatch API or an OpenTelemetry collector)";

/** Fields a job component and its environmentConfig entries both have (Radix merges the second over the first). */
const sharedFields = {
  image: z.string().min(1).optional(),
  /** Radix builds the image from src/dockerfileName; refused unless an image is named (environment.ts). */
  src: z.string().optional(),
  dockerfileName: z.string().optional(),
  imageTagName: z.string().min(1).optional(),
  monitoring: z
    .boolean()
    .refine((value) => !value, `true: ${MONITORING}`)
    .optional(),
  resources: resourcesConfigSchema.optional(),
  /** Names starting with AWS_BATCH are AWS Batch's own: SubmitJob refuses them. */
  variables: z
    .record(
      z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name")
        .refine(
          (name) => !name.startsWith("AWS_BATCH"),
          "names starting with AWS_BATCH are reserved for AWS Batch",
        ),
      z.string(),
    )
    .optional(),
  volumeMounts: z.array(volumeMountSchema).optional(),
  node: nodeConfigSchema.optional(),
  secretRefs: strict(
    {
      azureKeyVaults: refused(
        "Azure Key Vault cannot be read on AWS Batch. List the names under secrets and keep the values in AWS " +
          "Secrets Manager or SSM Parameter Store: the stack creates one Secrets Manager secret per component, " +
          "or aws.secrets maps a name to an existing secret ARN or parameter",
        emptyList,
      ),
    },
    "secretRefs (azureKeyVaults is refused)",
  ).optional(),
  /** Radix default: 43200 s (12 h). */
  timeLimitSeconds: z.number().int().positive().optional(),
  backoffLimit: z.number().int().min(0).optional(),
  /**
   * Radix: whether the cluster autoscaler may restart the job on scale-down. AWS Batch never scales in a
   * host that runs a job, so both values hold; Spot reclaims are what `preemptible` chooses.
   */
  safeToRestart: z.boolean().optional(),
  identity: identitySchema.optional(),
  enabled: z.boolean().optional(),
  notifications: strict({ webhook: z.url().optional() }, "notifications (webhook)").optional(),
  readOnlyFileSystem: z.boolean().optional(),
  runtime: jobRuntimeSchema.optional(),
  batchStatusRules: z.array(batchStatusRuleSchema).optional(),
  failurePolicy: failurePolicySchema.optional(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  runAsUser: z.number().int().min(1).optional(),
  cron: radixCronSchema.optional(),
  schedules: z.array(scheduleEntrySchema).optional(),
};

export const environmentConfigSchema = strict(
  {
    environment: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a Radix environment name")
      .max(63),
    ...sharedFields,
  },
  "a job component's environmentConfig entry (README: Configuration reference)",
);

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

/** A job component's own `aws:` section: what Radix keeps elsewhere (its web console, for secrets). */
export const componentAwsSchema = strict(
  {
    /**
     * Secret name → an existing Secrets Manager secret ARN (`...:secret:name-AbCdEf:json-key::` for one key
     * of a JSON secret) or SSM parameter (ARN or name). Names of `secrets` not listed here are keys of the
     * Secrets Manager secret the stack creates for the component.
     */
    secrets: z.record(secretName, secretSourceSchema).optional(),
  },
  "a job component's aws section (secrets)",
);

export const radixJobComponentSchema = strict(
  {
    name: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be lowercase letters, digits and '-' (a DNS label)")
      .max(40),
    schedulerPort: z.number().int().min(1).max(65535),
    payload: strict(
      { path: z.string().startsWith("/", "must be an absolute path") },
      "payload (path)",
    ).optional(),
    ports: refused(
      "a job on AWS Batch gets no service address, so nothing can reach ports it binds; call out of the job " +
        "instead (the scheduler API is the component's own private API Gateway URL)",
      emptyList,
    ),
    monitoringConfig: refused(`${MONITORING} (no port or path is scraped)`, emptyObject),
    secrets: z.array(secretName).optional(),
    environmentConfig: z.array(environmentConfigSchema).optional(),
    retention: retentionSchema.prefault({}),
    local: localJobSchema.optional(),
    aws: componentAwsSchema.optional(),
    ...sharedFields,
  },
  "a Radix job component (README: Configuration reference)",
);

export type RadixJobComponent = z.infer<typeof radixJobComponentSchema>;
export type EnvironmentConfig = z.infer<typeof environmentConfigSchema>;
export type VolumeMountInput = z.infer<typeof volumeMountSchema>;
export type ScheduleEntry = z.infer<typeof scheduleEntrySchema>;
export type IamStatement = z.infer<typeof iamStatementSchema>;
export type BatchStatusRule = z.infer<typeof batchStatusRuleSchema>;
