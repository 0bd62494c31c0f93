import { Stack } from "aws-cdk-lib";
import * as batch from "aws-cdk-lib/aws-batch";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import {
  buildJobDefinition,
  FETCH_CONTAINER,
  type JobDefinitionInput,
} from "../../lib/batch/job-definition.js";
import { buildRuntimeConfig, resourceNames } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import { effectiveSpec } from "../../lib/domain/effective-spec.js";
import { allow } from "./allow.js";
import type { PayloadBucket } from "./payload-bucket.js";

/** Smallest CloudWatch Logs retention that keeps job output at least `days` (GET .../logs reads it). */
export function retentionAtLeast(days: number): logs.RetentionDays {
  const choices = Object.values(logs.RetentionDays)
    .filter((value): value is number => typeof value === "number" && value !== logs.RetentionDays.INFINITE)
    .sort((a, b) => a - b);
  return (choices.find((value) => value >= days) ?? logs.RetentionDays.INFINITE) as logs.RetentionDays;
}

/** Private ECR image → repository; other registries (public.ecr.aws, Docker Hub) need no IAM to pull. */
const ECR_IMAGE = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/;

/**
 * Adds variables to the fetch-payload container. The ECS agent on EC2 does not set AWS_REGION in task
 * containers (aws/containers-roadmap#1611; Fargate does), and the fetch program needs it for the S3 URL.
 */
export function withFetchEnvironment(
  definition: JobDefinitionInput,
  variables: Record<string, string>,
): JobDefinitionInput {
  const extra = Object.entries(variables).map(([name, value]) => ({ name, value }));
  return {
    ...definition,
    ecsProperties: {
      taskProperties: definition.ecsProperties.taskProperties.map((task) => ({
        ...task,
        containers: task.containers.map((container) =>
          container.name === FETCH_CONTAINER
            ? { ...container, environment: [...container.environment, ...extra] }
            : container,
        ),
      })),
    },
  };
}

export interface JobDefinitionsProps {
  readonly config: DeploymentConfig;
  /** Jobs read their payload from here (job role: s3:GetObject under `payloads/`). */
  readonly payloads: PayloadBucket;
  /** ARNs of this deployment's job queues: SubmitJob needs the queue and the definition. */
  readonly queueArns: string[];
}

/**
 * Per job component the AWS Batch job definition `resourceNames.jobDefinition(app, component)`, built by
 * lib/batch/job-definition.ts (the same shape the local stack registers): a non-essential fetch-payload
 * container and the user's `main` container, which starts after it succeeds and sees the payload volume
 * at `payload.path`.
 *
 * GPUs are not part of the definition: every submission sets VCPU, MEMORY and, for GPU jobs, GPU in
 * `ecsPropertiesOverride` and goes to the queue of a GPU family, so one definition serves CPU and GPU
 * jobs. vCPUs and memory here are only defaults (the component's own resources).
 *
 * Also the roles of the jobs (job role: read payloads; execution role: pull the configured ECR images,
 * write logs), the log group of their output, and the grants the functions need to run jobs.
 */
export class JobDefinitions extends Construct {
  public readonly definitions: ReadonlyMap<string, batch.CfnJobDefinition>;
  /** Task role of every job container: reads payload objects, nothing else. */
  public readonly jobRole: iam.Role;
  /** ECS task execution role: image pulls from the configured private ECR repositories and log writes. */
  public readonly executionRole: iam.Role;
  /** awslogs group of every job container (streams `<definition>/<container>/<task id>`). */
  public readonly logGroup: logs.LogGroup;
  private readonly definitionNames: string[];
  private readonly queueArns: string[];

  constructor(scope: Construct, id: string, props: JobDefinitionsProps) {
    super(scope, id);
    const { config } = props;
    const app = config.metadata.name;
    const stack = Stack.of(this);
    this.queueArns = props.queueArns;

    this.logGroup = new logs.LogGroup(this, "JobLogs", {
      retention: retentionAtLeast(Math.max(...config.spec.jobs.map((job) => job.retention.maxAgeDays))),
    });
    this.jobRole = new iam.Role(this, "JobRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "Task role of the job scheduler's AWS Batch jobs: reads payload objects",
    });
    props.payloads.grantPayloads(this.jobRole, "read");
    this.executionRole = new iam.Role(this, "ExecutionRole", {
      assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
      description: "Task execution role of the job scheduler's AWS Batch jobs: image pulls, logs",
    });
    this.logGroup.grantWrite(this.executionRole);

    // Default vCPUs/memory from the component's resources, through the same code the API uses; an
    // impossible component default (unknown GPU type, too many GPUs) fails here, at synth.
    const runtime = buildRuntimeConfig(config);
    const repositories = new Set<string>();
    const definitions = new Map<string, batch.CfnJobDefinition>();
    config.spec.jobs.forEach((job, index) => {
      if (!job.image) throw new Error(`spec.jobs.${index}.image: required to deploy ${job.name} to AWS`);
      const image = job.image.replaceAll("{imageTagName}", job.imageTagName);
      const ecr = ECR_IMAGE.exec(image);
      if (ecr) repositories.add(`${ecr[1]}|${ecr[2]}|${ecr[3]}`);
      const component = runtime.components.find((candidate) => candidate.name === job.name)!;
      let spec: ReturnType<typeof effectiveSpec>;
      try {
        spec = effectiveSpec(component, runtime);
      } catch (cause) {
        throw new Error(`spec.jobs.${index}: ${(cause as Error).message}`, { cause });
      }
      const definition = buildJobDefinition({
        name: component.jobDefinition,
        image,
        payloadPath: job.payload?.path,
        fetchImage: config.aws.payloadFetchImage,
        vcpus: spec.vcpus,
        memoryMiB: spec.memoryMiB,
        jobRoleArn: this.jobRole.roleArn,
        executionRoleArn: this.executionRole.roleArn,
        logGroupName: this.logGroup.logGroupName,
      });
      definitions.set(
        job.name,
        new batch.CfnJobDefinition(
          this,
          `Definition-${job.name}`,
          withFetchEnvironment(definition, { AWS_REGION: stack.region }),
        ),
      );
    });
    this.definitions = definitions;
    this.definitionNames = config.spec.jobs.map((job) => resourceNames.jobDefinition(app, job.name));

    if (repositories.size > 0) {
      allow(this.executionRole, {
        actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        resources: [...repositories].map((key) => {
          const [account, region, name] = key.split("|") as [string, string, string];
          return stack.formatArn({
            service: "ecr",
            account,
            region,
            resource: "repository",
            resourceName: name,
          });
        }),
      });
      allow(this.executionRole, {
        actions: ["ecr:GetAuthorizationToken"],
        resources: ["*"],
        wildcardReason:
          "ecr:GetAuthorizationToken has no resource-level permissions (Service Authorization Reference, " +
          "Amazon ECR); the pull actions are limited to the configured repositories.",
      });
    }
  }

  /** `job-definition/<name>` and every revision `job-definition/<name>:*`, for each component. */
  public definitionArns(): string[] {
    const stack = Stack.of(this);
    return this.definitionNames.flatMap((name) => [
      stack.formatArn({ service: "batch", resource: "job-definition", resourceName: name }),
      stack.formatArn({ service: "batch", resource: "job-definition", resourceName: `${name}:*` }),
    ]);
  }

  /**
   * Batch access for a function. Always: DescribeJobs, ListJobs, DescribeJobDefinitions. `submit`: SubmitJob
   * on this deployment's queues and definitions, RegisterJobDefinition + iam:PassRole of the job roles (a
   * new image tag is a new revision), and TagResource on jobs and on the definitions' revisions: both are
   * tagged on creation (a new revision keeps the deployed one's tags, less CloudFormation's `aws:` ones),
   * and AWS refuses a create whose tags cannot be applied
   * (https://docs.aws.amazon.com/batch/latest/userguide/tag-resources.html). `stop`: CancelJob and
   * TerminateJob.
   */
  public grantJobs(grantee: iam.IGrantable, access: { submit?: boolean; stop?: boolean } = {}): void {
    const stack = Stack.of(this);
    const jobs = stack.formatArn({ service: "batch", resource: "job", resourceName: "*" });
    allow(grantee, {
      actions: ["batch:DescribeJobs", "batch:ListJobs", "batch:DescribeJobDefinitions"],
      resources: ["*"],
      wildcardReason:
        "batch:DescribeJobs, batch:ListJobs and batch:DescribeJobDefinitions support no resource-level " +
        "permissions (Service Authorization Reference, AWS Batch: no resource types), so Resource must be *.",
    });
    if (access.submit) {
      allow(grantee, {
        actions: ["batch:SubmitJob"],
        resources: [...this.queueArns, ...this.definitionArns()],
        wildcardReason:
          "Job definition revisions are registered at run time when a request names another image tag.",
      });
      allow(grantee, {
        actions: ["batch:TagResource"],
        resources: [jobs, ...this.definitionArns()],
        wildcardReason:
          "Submissions and new job definition revisions are tagged on creation; the job ids SubmitJob " +
          "creates and the revision numbers RegisterJobDefinition assigns are not known in advance.",
      });
      allow(grantee, {
        actions: ["batch:RegisterJobDefinition"],
        resources: this.definitionArns(),
        wildcardReason:
          "A new image tag registers a new revision (<name>:<revision>) of the component's definition.",
      });
      allow(grantee, {
        actions: ["iam:PassRole"],
        resources: [this.jobRole.roleArn, this.executionRole.roleArn],
      });
    }
    if (access.stop) {
      allow(grantee, {
        actions: ["batch:CancelJob", "batch:TerminateJob"],
        resources: [jobs],
        wildcardReason:
          "Jobs are stopped by the ids SubmitJob returned at run time; job ARNs carry no queue or name to scope by.",
      });
    }
  }
}
