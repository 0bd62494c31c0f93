/**
 * The AWS Batch job definition of a job component, shared by cdk/ (CfnJobDefinition) and the local stack
 * (RegisterJobDefinition against the local Batch emulator), so both run the same shape.
 *
 * Payload delivery without touching the user's image (AWS Batch multi-container jobs,
 * https://docs.aws.amazon.com/batch/latest/userguide/multi-container-jobs.html): a non-essential
 * `fetch-payload` container copies the job's payload from S3 into a task volume, and the `main` container,
 * which depends on it with condition SUCCESS, sees the volume at `payload.path` as the file `payload`.
 *
 * Payload layout in S3 (written by lib/payloads): per batch one `pack` object (all payloads concatenated)
 * and one `index` object of fixed-width records, {@link PAYLOAD_INDEX_RECORD_BYTES} bytes each: the byte
 * offset right-aligned in 15 characters, a space, the length right-aligned in 7, a newline. Record `i`
 * belongs to the job with ordinal `i`; an array child's ordinal is `PAYLOAD_BASE + AWS_BATCH_JOB_ARRAY_INDEX`.
 */
export const PAYLOAD_INDEX_RECORD_BYTES = 24;

import { FETCH_PAYLOAD_PROGRAM } from "./fetch-payload-program.js";

/**
 * The fetch-payload container reserves memory and no vCPU, on purpose.
 *
 * - AWS Batch needs the vCPU requirement once per job, not per container: "You must specify at least one
 *   vCPU. This is required but can be specified in several places. It must be specified for each node at
 *   least once" (ResourceRequirement / ContainerDetail.vcpus,
 *   https://docs.aws.amazon.com/batch/latest/APIReference/API_ResourceRequirement.html). The main
 *   container always carries it (every submission overrides it with the job's vCPUs).
 * - On ECS (EC2) a container-level CPU reservation is optional; the reservations of a task's containers
 *   add up, and a container without one shares the host's unreserved CPU ("the total amount of CPU
 *   reserved for all containers within a task", ECS ContainerDefinition `cpu`,
 *   https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html). AWS Batch
 *   counts VCPU in whole vCPUs on EC2 (1 vCPU = 1,024 CPU shares), so a VCPU on this container would add
 *   a whole vCPU to every job: a job asking for the 4 vCPUs and 1 GPU of a g5.xlarge would need 5 vCPUs,
 *   fit no g5.xlarge, and wait RUNNABLE until the queue cancels it. It runs before the main container
 *   starts (dependsOn SUCCESS) and copies a few bytes, so it needs no CPU of its own.
 * - Memory is the exception: ECS on EC2 requires a memory reservation on each container of a task without
 *   task-level memory (ECS ContainerDefinition `memory`), so it keeps {@link FETCH_MEMORY_MIB}. It adds to
 *   the job's memory: a job sized to an instance's whole memory must leave this much, plus what the ECS
 *   agent and the OS keep (https://docs.aws.amazon.com/batch/latest/userguide/memory-management.html).
 *
 * AWS's multi-container examples give every container both (multi-container-jobs.html); they size
 * sidecars that run beside the main container, not an init step like this one.
 */
export const FETCH_MEMORY_MIB = 128;

/** Container names inside the job definition. */
export const FETCH_CONTAINER = "fetch-payload";
export const MAIN_CONTAINER = "main";
export const PAYLOAD_VOLUME = "payload";

export interface JobDefinitionOptions {
  name: string;
  /** The user's image (AWS) — ignored by the local emulator, which runs `mainCommand` instead. */
  image: string;
  /** Local stack: the command standing in for the image. In AWS the image's own entrypoint runs. */
  mainCommand?: string[];
  mainEnvironment?: Record<string, string>;
  /** `payload.path` of the job component; without it no payload is delivered. */
  payloadPath?: string;
  /** A stock Node.js image; it runs {@link FETCH_PAYLOAD_PROGRAM}. */
  fetchImage: string;
  /** Default vCPUs and memory (MiB) of the main container; every submission overrides them. */
  vcpus: number;
  memoryMiB: number;
  jobRoleArn?: string;
  executionRoleArn?: string;
  logGroupName?: string;
  tags?: Record<string, string>;
  /**
   * Secret environment variables of the main container: `valueFrom` is a Secrets Manager ARN (with
   * `:json-key::` for one key of a JSON secret) or an SSM parameter; the execution role reads them at
   * task start (https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data.html).
   */
  secrets?: { name: string; valueFrom: string }[];
  /** radixconfig readOnlyFileSystem: the main container's root file system is read-only. */
  readonlyRootFilesystem?: boolean;
  /** radixconfig runAsUser: the main container's user id. */
  user?: string;
  /** Extra volumes of the main container: EFS file systems (radixconfig volumeMounts) and scratch ones. */
  volumes?: JobVolume[];
}

/** A volume of the main container: EFS (with IAM authorization and TLS) or task-scoped scratch space. */
export interface JobVolume {
  name: string;
  containerPath: string;
  readOnly: boolean;
  efs?: { fileSystemId: string; accessPointId?: string; rootDirectory?: string };
}

/** Volume names in the job definition: `payload` is the payload's, the others are prefixed. */
export const volumeName = (mount: string) => `vol-${mount}`;

/**
 * Task volume of an EFS file system. Transit encryption and IAM authorization are on: the job role is what
 * mounts it (https://docs.aws.amazon.com/batch/latest/userguide/efs-volumes.html; with an access point the
 * root directory must be / or absent).
 */
function taskVolume(volume: JobVolume) {
  if (!volume.efs) return { name: volume.name };
  const { fileSystemId, accessPointId, rootDirectory } = volume.efs;
  return {
    name: volume.name,
    efsVolumeConfiguration: {
      fileSystemId,
      ...(rootDirectory && !accessPointId ? { rootDirectory } : {}),
      transitEncryption: "ENABLED",
      authorizationConfig: { iam: "ENABLED", ...(accessPointId ? { accessPointId } : {}) },
    },
  };
}

interface KeyValue {
  name: string;
  value: string;
}

const env = (values: Record<string, string>): KeyValue[] =>
  Object.entries(values).map(([name, value]) => ({ name, value }));

/**
 * The RegisterJobDefinition input (camelCase, as the Batch API and CfnJobDefinition props take it).
 * @example
 * const input = buildJobDefinition({ name: "sample-compute", image: "repo/compute:1.0.0",
 *   payloadPath: "/compute/args", fetchImage: "public.ecr.aws/docker/library/node:22-alpine", vcpus: 1, memoryMiB: 512 });
 */
export function buildJobDefinition(options: JobDefinitionOptions) {
  const logConfiguration = options.logGroupName
    ? {
        logDriver: "awslogs",
        options: { "awslogs-group": options.logGroupName, "awslogs-stream-prefix": options.name },
      }
    : undefined;
  const payloadMount = options.payloadPath
    ? [{ sourceVolume: PAYLOAD_VOLUME, containerPath: options.payloadPath, readOnly: false }]
    : [];
  const fetchContainer = options.payloadPath
    ? [
        {
          name: FETCH_CONTAINER,
          image: options.fetchImage,
          essential: false,
          command: ["node", "-e", FETCH_PAYLOAD_PROGRAM],
          environment: env({
            PAYLOAD_DIR: options.payloadPath,
            PAYLOAD_BASE: "0",
            PAYLOAD_RECORD_BYTES: String(PAYLOAD_INDEX_RECORD_BYTES),
          }),
          resourceRequirements: [{ type: "MEMORY", value: String(FETCH_MEMORY_MIB) }],
          mountPoints: payloadMount,
          logConfiguration,
        },
      ]
    : [];
  const mainContainer = {
    name: MAIN_CONTAINER,
    image: options.image,
    essential: true,
    command: options.mainCommand,
    dependsOn: options.payloadPath ? [{ containerName: FETCH_CONTAINER, condition: "SUCCESS" }] : undefined,
    environment: env({
      ...(options.payloadPath ? { PAYLOAD_PATH: options.payloadPath } : {}),
      ...options.mainEnvironment,
    }),
    resourceRequirements: [
      { type: "VCPU", value: String(options.vcpus) },
      { type: "MEMORY", value: String(options.memoryMiB) },
    ],
    mountPoints: [
      ...payloadMount,
      ...(options.volumes ?? []).map((volume) => ({
        sourceVolume: volume.name,
        containerPath: volume.containerPath,
        readOnly: volume.readOnly,
      })),
    ],
    logConfiguration,
    ...(options.secrets?.length ? { secrets: options.secrets } : {}),
    ...(options.readonlyRootFilesystem ? { readonlyRootFilesystem: true } : {}),
    ...(options.user ? { user: options.user } : {}),
  };
  return {
    jobDefinitionName: options.name,
    type: "container" as const,
    platformCapabilities: ["EC2"],
    ecsProperties: {
      taskProperties: [
        {
          containers: [...fetchContainer, mainContainer],
          volumes: [
            ...(options.payloadPath ? [{ name: PAYLOAD_VOLUME }] : []),
            ...(options.volumes ?? []).map(taskVolume),
          ],
          taskRoleArn: options.jobRoleArn,
          executionRoleArn: options.executionRoleArn,
        },
      ],
    },
    // Retries and timeouts are set per submission (backoffLimit, timeLimitSeconds); these are defaults.
    retryStrategy: { attempts: 1 },
    propagateTags: true,
    tags: options.tags,
  };
}

export type JobDefinitionInput = ReturnType<typeof buildJobDefinition>;
