import { Annotations, Duration, Validations } from "aws-cdk-lib";
import * as batch from "aws-cdk-lib/aws-batch";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { type ComputeQueue, computeQueues, resourceNames } from "../../lib/config/runtime.js";
import type { AwsConfig, ProjectConfig } from "../../lib/config/schema.js";

/** Key of the default (amd64) CPU queue in the runtime settings (lib/config/runtime.ts); GPU queues use their family name. */
export const CPU_QUEUE_KEY = "cpu";

/** AWS Batch accepts weight factors 0.0001..999.9999 (SchedulingPolicy ShareAttributes). */
const MAX_WEIGHT_FACTOR = 999.9999;

/**
 * The fair-share policy's shares: each job component (its jobs without a project) with weight 1, each
 * project with its weight. AWS gives a share capacity in inverse proportion to its weightFactor, so the
 * largest weight gets factor 1 and a weight w gets `largest / w`, rounded to the 4 decimals AWS keeps.
 */
export function fairShares(
  components: readonly string[],
  projects: readonly Pick<ProjectConfig, "name" | "weight">[],
): batch.Share[] {
  const weighted = [
    ...components.map((name) => ({ name, weight: 1 })),
    ...projects.map(({ name, weight }) => ({ name, weight })),
  ];
  const largest = Math.max(...weighted.map((share) => share.weight));
  return weighted.map(({ name, weight }) => ({
    shareIdentifier: name,
    weightFactor: Math.min(MAX_WEIGHT_FACTOR, Math.max(0.0001, Math.round((largest / weight) * 1e4) / 1e4)),
  }));
}

/**
 * How long a job may sit RUNNABLE at the head of a queue for a reason that will not clear by itself before
 * AWS Batch cancels it (jobStateTimeLimitActions: 600..86400 s). One hour leaves room for Spot and GPU
 * capacity to appear.
 */
export const RUNNABLE_TIME_LIMIT = Duration.hours(1);

const RUNNABLE_CANCEL_REASONS = [
  batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY,
  batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT,
  batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE,
];

/** Root volume of GPU hosts: ML images are often 10-20 GB, more than the AMI's default 30 GiB holds twice. */
const GPU_ROOT_VOLUME_GIB = 100;

/**
 * Batch takes sizes (`g5.xlarge`), families (`g5`) and `optimal`; the CDK L2 takes sizes as instance
 * types and everything else as instance classes (a bare family is not a valid `InstanceType`).
 */
export function instanceSelection(names: readonly string[]) {
  return {
    instanceTypes: names.filter((name) => name.includes(".")).map((name) => new ec2.InstanceType(name)),
    instanceClasses: names.filter((name) => !name.includes(".")).map((name) => name as ec2.InstanceClass),
  };
}

export interface GpuBatchComputeProps {
  /** `metadata.name`: queues are named `resourceNames.queue(app, key)`. */
  readonly app: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Security group of the hosts (egress only). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** `aws.cpu` and `aws.gpuFamilies`: per compute an environment and queue for each capacity it has. */
  readonly aws: Pick<AwsConfig, "cpu" | "gpuFamilies">;
  /** The job component names: the share identifiers of jobs without a project, weight 1. */
  readonly shareIdentifiers: readonly string[];
  /** `projects`: share identifiers with their weights. */
  readonly projects?: readonly Pick<ProjectConfig, "name" | "weight">[];
}

/**
 * The AWS Batch capacity: per configured GPU family a managed EC2 compute environment on the ECS
 * GPU-optimized Amazon Linux 2023 AMI and a job queue, per CPU compute one on the ECS-optimized AL2023 AMI
 * (amd64 or Graviton: Batch picks the AMI of the instances' architecture) — and for a compute with
 * `capacity: both` a second, Spot, environment and queue `<key>-spot` (lib/config/runtime.ts computeQueues).
 *
 * - Environments scale from 0 vCPUs; Spot uses SPOT_PRICE_CAPACITY_OPTIMIZED, on-demand
 *   BEST_FIT_PROGRESSIVE (both allow in-place infrastructure updates).
 * - One fair-share policy serves every queue: job components weigh 1, projects their configured weight.
 * - `useOptimalInstanceClasses: false`: CDK would otherwise add `optimal` (x86 C/M/R classes) to a GPU
 *   environment, and GPU jobs can stick RUNNABLE behind non-GPU hosts (gpu-jobs.md; aws/aws-cdk#31148).
 * - Every queue cancels jobs stuck RUNNABLE for {@link RUNNABLE_TIME_LIMIT} because of capacity or a
 *   requirement no host meets, and schedules by a fair-share policy, so share identifiers work. A queue's
 *   fair-share policy can be replaced but never removed, and one cannot be added to a FIFO queue later.
 *   With the policy in place, SubmitJob must carry a `shareIdentifier`.
 */
export class GpuBatchCompute extends Construct {
  /** Job queues by key (lib/config/runtime.ts computeQueues): `cpu`, each GPU family, `-spot` ones. */
  public readonly queues: ReadonlyMap<string, batch.JobQueue>;
  public readonly computeEnvironments: ReadonlyMap<string, batch.ManagedEc2EcsComputeEnvironment>;
  public readonly schedulingPolicy: batch.FairshareSchedulingPolicy;
  /** Role of the container instances (the ECS agent), shared by all environments. */
  public readonly instanceRole: iam.Role;

  constructor(scope: Construct, id: string, props: GpuBatchComputeProps) {
    super(scope, id);
    this.instanceRole = new iam.Role(this, "InstanceRole", {
      assumedBy: new iam.ServicePrincipal("ec2.amazonaws.com"),
      description: "ECS container instances of the job scheduler's AWS Batch compute environments",
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AmazonEC2ContainerServiceforEC2Role"),
      ],
    });
    Validations.of(this.instanceRole).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role]",
      reason:
        "The AWS-managed policy AWS Batch documents for the container instance role (instance_IAM_role.md); " +
        "AWS keeps it in step with what the ECS agent calls.",
    });

    this.schedulingPolicy = new batch.FairshareSchedulingPolicy(this, "FairShare", {
      shares: fairShares(props.shareIdentifiers, props.projects ?? []),
    });

    const gpuLaunchTemplate = new ec2.LaunchTemplate(this, "GpuHosts", {
      requireImdsv2: true,
      blockDevices: [
        {
          deviceName: "/dev/xvda",
          volume: ec2.BlockDeviceVolume.ebs(GPU_ROOT_VOLUME_GIB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
          }),
        },
      ],
    });

    const environments = new Map<string, batch.ManagedEc2EcsComputeEnvironment>();
    const queues = new Map<string, batch.JobQueue>();
    const add = (key: string, environment: batch.ManagedEc2EcsComputeEnvironment) => {
      environments.set(key, environment);
      queues.set(
        key,
        new batch.JobQueue(this, `Queue-${key}`, {
          jobQueueName: resourceNames.queue(props.app, key),
          computeEnvironments: [{ computeEnvironment: environment, order: 1 }],
          schedulingPolicy: this.schedulingPolicy,
          jobStateTimeLimitActions: RUNNABLE_CANCEL_REASONS.map((reason) => ({
            state: batch.JobStateTimeLimitActionsState.RUNNABLE,
            action: batch.JobStateTimeLimitActionsAction.CANCEL,
            maxTime: RUNNABLE_TIME_LIMIT,
            reason,
          })),
        }),
      );
    };

    const common = {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      instanceRole: this.instanceRole,
      minvCpus: 0,
      useOptimalInstanceClasses: false,
      updateToLatestImageVersion: true,
    };
    const allocation = (spot: boolean) =>
      spot
        ? batch.AllocationStrategy.SPOT_PRICE_CAPACITY_OPTIMIZED
        : batch.AllocationStrategy.BEST_FIT_PROGRESSIVE;

    for (const queue of computeQueues(props.aws)) {
      const spot = queue.capacity === "spot";
      add(
        queue.key,
        new batch.ManagedEc2EcsComputeEnvironment(this, environmentId(queue), {
          ...common,
          // Families (`c7i`), sizes (`c7i.large`) or Batch's keywords, passed to Batch as written.
          ...instanceSelection(queue.instanceTypes),
          maxvCpus: queue.maxvCpus,
          spot,
          allocationStrategy: allocation(spot),
          ...(queue.kind === "gpu"
            ? {
                // Batch picks the current ECS GPU-optimized AL2023 AMI (NVIDIA driver, container toolkit).
                images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023_NVIDIA }],
                launchTemplate: gpuLaunchTemplate,
              }
            : { images: [{ imageType: batch.EcsMachineImageType.ECS_AL2023 }] }),
        }),
      );
      if (queue.kind === "gpu" && queue.architecture === "arm64") {
        Annotations.of(this).addWarningV2(
          `job-scheduler:arm64-gpu-${queue.key}`,
          `GPU family ${queue.key} is arm64: AWS Batch documents GPU jobs on x86_64 NVIDIA instances (gpu-jobs.md); check the ECS GPU AMI runs on it`,
        );
      }
    }
    this.queues = queues;
    this.computeEnvironments = environments;
  }

  /** The queue of a key (`cpu`, a GPU family, `<key>-spot`). */
  public queue(key: string): batch.JobQueue {
    const queue = this.queues.get(key);
    if (!queue) throw new Error(`no job queue '${key}' (configured: ${[...this.queues.keys()].join(", ")})`);
    return queue;
  }

  /** ARNs of every queue of this deployment (event rule pattern, SubmitJob resources). */
  public get queueArns(): string[] {
    return [...this.queues.values()].map((queue) => queue.jobQueueArn);
  }
}

/** Construct ids that existing deployments already have: `Cpu` and `Gpu-<family>` stay what they were. */
function environmentId(queue: ComputeQueue): string {
  if (queue.kind === "gpu") return `Gpu-${queue.key}`;
  return queue.key === CPU_QUEUE_KEY ? "Cpu" : `Cpu-${queue.key}`;
}
