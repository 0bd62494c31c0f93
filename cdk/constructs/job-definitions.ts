import { RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as batch from "aws-cdk-lib/aws-batch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import * as logs from "aws-cdk-lib/aws-logs";
import * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { componentDefinitionOptions, ownSecretKeys } from "../../lib/batch/component-definition.js";
import {
  buildJobDefinition,
  FETCH_CONTAINER,
  type JobDefinitionInput,
} from "../../lib/batch/job-definition.js";
import type { EfsVolume } from "../../lib/config/environment.js";
import { IMAGE_HINT } from "../../lib/config/radix-job.js";
import { buildRuntimeConfig, resourceNames } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import { effectiveSpec } from "../../lib/domain/effective-spec.js";
import { PARALLEL_RESOURCE_PREFIX } from "../../lib/service/max-parallel.js";
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
  /** Jobs read their payload from here (each component's job role: its own `payloads/<component>/` only). */
  readonly payloads: PayloadBucket;
  /** ARNs of this deployment's job queues: SubmitJob needs the queue and the definition. */
  readonly queueArns: string[];
  /** Security group of the Batch hosts: EFS mount targets admit NFS from it (required with EFS volumes). */
  readonly hostSecurityGroup?: ec2.ISecurityGroup;
  /** Consumable resources the stack created that jobs name at SubmitJob (projects' maxRunningJobs). */
  readonly consumableResourceArns?: string[];
}

/** NFS, which EFS mount targets serve (https://docs.aws.amazon.com/efs/latest/ug/network-access.html). */
const NFS_PORT = 2049;

/** The ARN of an existing secret source: a Secrets Manager secret (json-key etc. cut off) or an SSM parameter. */
function secretSourceArn(
  stack: Stack,
  valueFrom: string,
): { service: "secretsmanager" | "ssm"; arn: string } {
  if (valueFrom.startsWith("arn:")) {
    const parts = valueFrom.split(":");
    return parts[2] === "secretsmanager"
      ? { service: "secretsmanager", arn: parts.slice(0, 7).join(":") }
      : { service: "ssm", arn: valueFrom };
  }
  // An SSM parameter name: same account and region (AWS Batch accepts names there).
  return {
    service: "ssm",
    arn: stack.formatArn({
      service: "ssm",
      resource: "parameter",
      resourceName: valueFrom.replace(/^\//, ""),
    }),
  };
}

/**
 * Per job component the AWS Batch job definition `resourceNames.jobDefinition(app, component)`, built by
 * lib/batch/job-definition.ts (the same shape the local stack registers): a non-essential fetch-payload
 * container and the user's `main` container, which starts after it succeeds and sees the payload volume
 * at `payload.path`, plus what radixconfig adds (lib/batch/component-definition.ts): secrets, EFS and
 * scratch volumes, a read-only root file system, the user.
 *
 * GPUs are not part of the definition: every submission sets VCPU, MEMORY and, for GPU jobs, GPU in
 * `ecsPropertiesOverride` and goes to the queue of a GPU family, so one definition serves CPU and GPU
 * jobs. vCPUs and memory here are only defaults (the component's own resources).
 *
 * Also, per component, the roles of its jobs: a job role (ECS task role: reads the component's own
 * payloads, mounts its EFS volumes, and what `identity.aws` grants) and an execution role (pulls the
 * component's ECR image, writes logs, reads the component's secrets and nothing else); the component's
 * own Secrets Manager secret, which a resource policy lets only that execution role read; the EFS mount
 * targets' ingress from the Batch hosts; the log group of job output; and the grants the functions need.
 */
export class JobDefinitions extends Construct {
  public readonly definitions: ReadonlyMap<string, batch.CfnJobDefinition>;
  /** Per component: the task role of its jobs. */
  public readonly jobRoles: ReadonlyMap<string, iam.Role>;
  /** Per component: the ECS task execution role of its jobs. */
  public readonly executionRoles: ReadonlyMap<string, iam.Role>;
  /** Per component whose `secrets` are (partly) kept by the stack: its Secrets Manager secret `<app>/<component>`. */
  public readonly secrets: ReadonlyMap<string, secretsmanager.Secret>;
  /** awslogs group of every job container (streams `<definition>/<container>/<task id>`). */
  public readonly logGroup: logs.LogGroup;
  private readonly definitionNames: string[];
  private readonly queueArns: string[];
  private readonly consumableResourceArns: string[];

  constructor(scope: Construct, id: string, props: JobDefinitionsProps) {
    super(scope, id);
    const { config } = props;
    const app = config.metadata.name;
    const stack = Stack.of(this);
    this.queueArns = props.queueArns;
    this.consumableResourceArns = props.consumableResourceArns ?? [];

    this.logGroup = new logs.LogGroup(this, "JobLogs", {
      retention: retentionAtLeast(Math.max(...config.spec.jobs.map((job) => job.retention.maxAgeDays))),
    });

    // Default vCPUs/memory from the component's resources, through the same code the API uses; an
    // impossible component default (unknown GPU type, too many GPUs) fails here, at synth.
    const runtime = buildRuntimeConfig(config);
    const definitions = new Map<string, batch.CfnJobDefinition>();
    const jobRoles = new Map<string, iam.Role>();
    const executionRoles = new Map<string, iam.Role>();
    const secrets = new Map<string, secretsmanager.Secret>();
    const openedGroups = new Set<string>();
    config.spec.jobs.forEach((job, index) => {
      if (!job.image)
        throw new Error(`spec.jobs.${index}.image: required to deploy ${job.name} to AWS; ${IMAGE_HINT}`);
      const image = job.image.replaceAll("{imageTagName}", job.imageTagName);
      const component = runtime.components.find((candidate) => candidate.name === job.name)!;
      let spec: ReturnType<typeof effectiveSpec>;
      try {
        spec = effectiveSpec(component, runtime);
      } catch (cause) {
        throw new Error(`spec.jobs.${index}: ${(cause as Error).message}`, { cause });
      }

      const jobRole = new iam.Role(this, `JobRole-${job.name}`, {
        assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        description: `Task role of job component ${job.name}: reads its own payloads, plus identity.aws`,
      });
      props.payloads.grantComponentPayloads(jobRole, job.name);
      this.grantIdentity(jobRole, job);
      const executionRole = new iam.Role(this, `ExecutionRole-${job.name}`, {
        assumedBy: new iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
        description: `Task execution role of job component ${job.name}: its image, its logs, its secrets`,
      });
      this.logGroup.grantWrite(executionRole);
      this.grantImagePull(executionRole, image);
      jobRoles.set(job.name, jobRole);
      executionRoles.set(job.name, executionRole);

      const ownKeys = ownSecretKeys(job);
      let ownSecretArn = "";
      if (ownKeys.length > 0) {
        const secret = this.componentSecret(app, job.name, ownKeys, executionRole);
        secrets.set(job.name, secret);
        ownSecretArn = secret.secretArn;
      }
      this.grantSecretSources(executionRole, job);

      for (const mount of job.volumeMounts) {
        if (!mount.efs) continue;
        this.grantEfs(jobRole, mount.efs);
        if (!props.hostSecurityGroup) throw new Error("JobDefinitions: EFS volumes need hostSecurityGroup");
        if (!openedGroups.has(mount.efs.securityGroupId)) {
          openedGroups.add(mount.efs.securityGroupId);
          new ec2.CfnSecurityGroupIngress(this, `EfsIngress-${mount.efs.securityGroupId}`, {
            groupId: mount.efs.securityGroupId,
            ipProtocol: "tcp",
            fromPort: NFS_PORT,
            toPort: NFS_PORT,
            sourceSecurityGroupId: props.hostSecurityGroup.securityGroupId,
            description: `NFS from the ${app} job scheduler's Batch hosts (EFS volume mounts)`,
          });
        }
      }

      const definition = buildJobDefinition({
        name: component.jobDefinition,
        image,
        payloadPath: job.payload?.path,
        fetchImage: config.aws.payloadFetchImage,
        vcpus: spec.vcpus,
        memoryMiB: spec.memoryMiB,
        jobRoleArn: jobRole.roleArn,
        executionRoleArn: executionRole.roleArn,
        logGroupName: this.logGroup.logGroupName,
        ...componentDefinitionOptions(job, ownSecretArn),
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
    this.jobRoles = jobRoles;
    this.executionRoles = executionRoles;
    this.secrets = secrets;
    this.definitionNames = config.spec.jobs.map((job) => resourceNames.jobDefinition(app, job.name));
  }

  /** Private ECR image → pulls from that repository only; other registries (public.ecr.aws) need no IAM. */
  private grantImagePull(executionRole: iam.Role, image: string) {
    const ecr = ECR_IMAGE.exec(image);
    if (!ecr) return;
    const [, account, region, name] = ecr as unknown as [string, string, string, string];
    allow(executionRole, {
      actions: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
      resources: [
        Stack.of(this).formatArn({
          service: "ecr",
          account,
          region,
          resource: "repository",
          resourceName: name,
        }),
      ],
    });
    allow(executionRole, {
      actions: ["ecr:GetAuthorizationToken"],
      resources: ["*"],
      wildcardReason:
        "ecr:GetAuthorizationToken has no resource-level permissions (Service Authorization Reference, " +
        "Amazon ECR); the pull actions are limited to the component's repository.",
    });
  }

  /**
   * The component's own secret: one JSON object whose keys are the names of its `secrets`. The stack
   * creates it with a generated placeholder (CloudFormation never writes it again, so values an operator
   * sets survive updates); a job cannot start until the operator has put the JSON value (README). Only the
   * component's execution role may read it: IAM grants it, and the resource policy denies everyone else.
   */
  private componentSecret(app: string, component: string, keys: string[], executionRole: iam.Role) {
    const secret = new secretsmanager.Secret(this, `Secret-${component}`, {
      secretName: `${app}/${component}`,
      description: `Secret environment variables of job component ${component}: a JSON object with the keys ${keys.join(", ")}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    allow(executionRole, { actions: ["secretsmanager:GetSecretValue"], resources: [secret.secretArn] });
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ["secretsmanager:GetSecretValue"],
        resources: ["*"],
        conditions: { StringNotEquals: { "aws:PrincipalArn": executionRole.roleArn } },
      }),
    );
    Validations.of(secret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "The values are the application's own credentials (Radix secrets), set by its operator; rotating them " +
        "needs a rotation function that knows the service they belong to, which only the operator can provide.",
    });
    return secret;
  }

  /** Existing secrets named in `aws.secrets`: Secrets Manager secrets and SSM parameters, each by its ARN. */
  private grantSecretSources(executionRole: iam.Role, job: DeploymentConfig["spec"]["jobs"][number]) {
    const sources = Object.values(job.aws?.secrets ?? {}).map((valueFrom) =>
      secretSourceArn(Stack.of(this), valueFrom),
    );
    for (const service of ["secretsmanager", "ssm"] as const) {
      const arns = [
        ...new Set(sources.filter((source) => source.service === service).map((source) => source.arn)),
      ];
      if (arns.length === 0) continue;
      allow(executionRole, {
        actions: [service === "ssm" ? "ssm:GetParameters" : "secretsmanager:GetSecretValue"],
        resources: arns,
      });
    }
  }

  /** `identity.aws`: managed policies and statements on the component's job role. */
  private grantIdentity(jobRole: iam.Role, job: DeploymentConfig["spec"]["jobs"][number]) {
    const identity = job.identity?.aws;
    if (!identity) return;
    identity.policyArns.forEach((arn, index) => {
      jobRole.addManagedPolicy(
        iam.ManagedPolicy.fromManagedPolicyArn(this, `Policy-${job.name}-${index}`, arn),
      );
      Validations.of(jobRole).acknowledge({
        id: `AwsSolutions-IAM4[Policy::${arn}]`,
        reason: `Attached by the configuration (spec.jobs[${job.name}].identity.aws.policyArns): the job's own permissions.`,
      });
    });
    for (const statement of identity.statements) {
      jobRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          effect: statement.effect === "Deny" ? iam.Effect.DENY : iam.Effect.ALLOW,
          actions: statement.actions,
          resources: statement.resources,
          conditions: statement.conditions,
        }),
      );
      for (const [kind, values] of [
        ["Action", statement.actions],
        ["Resource", statement.resources],
      ] as const) {
        for (const value of values.filter((entry) => entry.includes("*"))) {
          Validations.of(jobRole).acknowledge({
            id: `AwsSolutions-IAM5[${kind}::${value}]`,
            reason: `Given by the configuration (spec.jobs[${job.name}].identity.aws.statements): the job's own permissions.`,
          });
        }
      }
    }
  }

  /**
   * Mounting an EFS file system with IAM authorization (the job definition turns it on): ClientMount, and
   * ClientWrite unless the mount is read-only; through the access point when one is configured.
   */
  private grantEfs(jobRole: iam.Role, efs: EfsVolume) {
    const stack = Stack.of(this);
    allow(jobRole, {
      actions: ["elasticfilesystem:ClientMount", ...(efs.readOnly ? [] : ["elasticfilesystem:ClientWrite"])],
      resources: [
        stack.formatArn({
          service: "elasticfilesystem",
          resource: "file-system",
          resourceName: efs.fileSystemId,
        }),
      ],
      conditions: efs.accessPointId
        ? {
            StringEquals: {
              "elasticfilesystem:AccessPointArn": stack.formatArn({
                service: "elasticfilesystem",
                resource: "access-point",
                resourceName: efs.accessPointId,
              }),
            },
          }
        : undefined,
    });
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
      // A batch's maxParallel is a consumable resource of its own (lib/service/max-parallel.ts), named
      // with this prefix, created before its first submission and deleted when it ends.
      const parallelResources = stack.formatArn({
        service: "batch",
        resource: "consumable-resource",
        resourceName: `${PARALLEL_RESOURCE_PREFIX}*`,
      });
      allow(grantee, {
        actions: ["batch:CreateConsumableResource", "batch:DeleteConsumableResource"],
        resources: [parallelResources],
        wildcardReason:
          "One consumable resource per batch with maxParallel, named after the batch when it is created.",
      });
      allow(grantee, {
        actions: ["batch:SubmitJob"],
        resources: [
          ...this.queueArns,
          ...this.definitionArns(),
          parallelResources,
          ...this.consumableResourceArns,
        ],
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
        resources: [...this.jobRoles.values(), ...this.executionRoles.values()].map((role) => role.roleArn),
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
