import { BadRequestError, InvalidRequestError } from "../api/errors.js";
import type {
  BatchScheduleDescription,
  BatchStatus,
  JobScheduleDescription,
  JobStatus,
} from "../api/schemas.js";
import { largestSubmitJobBytes, SUBMIT_JOB_MAX_BYTES } from "../batch/submit-input.js";
import type { ComponentSettings } from "../config/runtime.js";
import { canaryJobsOf } from "../domain/canary.js";
import {
  type EffectiveSpec,
  effectiveSpec,
  ImpossibleSpecError,
  type JobSpecInput,
} from "../domain/effective-spec.js";
import { groupJobs } from "../domain/grouping.js";
import { jobName, newBatchName } from "../domain/names.js";
import { reuseDigest } from "../domain/reuse-digest.js";
import { type BatchRecord, type BatchType, type GroupRecord, SHARD_SIZE } from "../store/job-store.js";
import { resolveDependencies, startDependent } from "./dependencies.js";
import { type BatchDeps, componentSettings, type ReadDeps, type ServiceDeps } from "./deps.js";
import { getBatch, getJob, singleJobEntry, summariesOf } from "./queries.js";
import { submitBatch } from "./submit.js";
import { batchStatusView, countsOf, jobStatusesOf, jobStatusView } from "./views.js";

/**
 * Above this many jobs (or groups) the batch is recorded, answered with Waiting, and submitted in the
 * background: API Gateway waits at most 29 s, and SubmitJob is throttled at 50 calls a second.
 */
export const SYNC_SUBMIT_MAX_JOBS = 1000;
export const SYNC_SUBMIT_MAX_GROUPS = 4;
/** The create answer lists the jobs of batches up to this size; larger ones are paged with GET. */
export const CREATE_RESPONSE_MAX_JOBS = 1000;

const DAY_MS = 86_400_000;

const specFields = ({
  payload: _p,
  jobId: _j,
  dependsOn: _d,
  ...spec
}: JobScheduleDescription): JobSpecInput => spec;

/** Effective specs, computed once per distinct description (100,000 identical jobs cost one merge). */
function specsOf(
  deps: ReadDeps,
  componentName: string,
  defaults: JobSpecInput | undefined,
  jobs: JobScheduleDescription[],
) {
  const component = componentSettings(deps, componentName);
  const cache = new Map<string, EffectiveSpec>();
  return jobs.map((job, position) => {
    const fields = specFields(job);
    const key = JSON.stringify(fields);
    let spec = cache.get(key);
    if (!spec) {
      try {
        spec = effectiveSpec(component, deps.runtime, defaults, fields);
      } catch (error) {
        if (error instanceof ImpossibleSpecError) {
          const where = jobs.length > 1 ? `jobScheduleDescriptions[${position}]: ` : "";
          throw new BadRequestError(`${where}${error.message}`, { cause: error });
        }
        throw error;
      }
      checkSubmitJobSize(deps, component, spec, { defaults, job: fields, position, count: jobs.length });
      cache.set(key, spec);
    }
    return spec;
  });
}

const SIZED_FIELDS = ["variables", "command", "args"] as const;

/**
 * A job whose SubmitJob request AWS Batch would refuse (over 30 KiB: its command, args and variables
 * travel in the request) is a 422 naming the largest of those fields where the request set it, before
 * anything is stored or submitted.
 */
function checkSubmitJobSize(
  deps: ReadDeps,
  component: ComponentSettings,
  spec: EffectiveSpec,
  where: { defaults?: JobSpecInput; job: JobSpecInput; position: number; count: number },
) {
  const queue =
    deps.runtime.queues.find((candidate) => candidate.key === spec.queueKey)?.queue ?? spec.queueKey;
  const bytes = largestSubmitJobBytes(spec, { component, queue, bucket: deps.runtime.bucketName });
  if (bytes <= SUBMIT_JOB_MAX_BYTES) return;
  const sizes = SIZED_FIELDS.map((field) => ({
    field,
    bytes: Buffer.byteLength(JSON.stringify(spec[field] ?? ""), "utf8"),
  })).sort((a, b) => b.bytes - a.bytes);
  const { field, bytes: fieldBytes } = sizes[0]!;
  const path =
    where.job[field] !== undefined
      ? `${where.count > 1 ? `jobScheduleDescriptions[${where.position}].` : ""}${field}`
      : where.defaults?.[field] !== undefined
        ? `defaultRadixJobComponentConfig.${field}`
        : `${field} (from the job component's configuration)`;
  throw new InvalidRequestError(
    `${path}: this job's AWS Batch SubmitJob request would be up to ${bytes} bytes with its command, args ` +
      `and variables, and AWS Batch refuses requests over 30 KiB (${SUBMIT_JOB_MAX_BYTES} bytes); ${field} ` +
      `alone takes ${fieldBytes} bytes. Shorten it, or pass large data in the payload`,
  );
}

interface Recorded {
  batch: BatchRecord;
  groups: GroupRecord[];
  jobIds: (string | undefined)[];
}

/** Beyond Radix: how a create is asked (who asks; whether an earlier identical result may be reused). */
export interface CreateOptions {
  /** Return an earlier Succeeded job or batch with the same effective specs and payloads (Arvados find_or_create). */
  reuse?: boolean;
  /** The caller's principal, recorded on the job. */
  submittedBy?: string;
}

/** What recordBatch takes beyond the caller's options: the batch-level fields of the request. */
type RecordOptions = CreateOptions &
  Pick<BatchScheduleDescription, "stopPolicy" | "maxParallel"> & {
    canary?: BatchRecord["canary"];
    dependsOn?: BatchRecord["dependsOn"];
  };

type Layer = JobSpecInput & { project?: string; ttlAfterFinish?: number };

/** What a request becomes before anything is stored: specs, AWS Batch groups and the reuse digest. */
function prepare(
  deps: ReadDeps,
  componentName: string,
  batchType: BatchType,
  defaults: Layer | undefined,
  jobs: JobScheduleDescription[],
  canaryJobs?: number,
) {
  const specs = specsOf(deps, componentName, defaults, jobs);
  const layers = jobs as Layer[];
  const projects = [
    ...new Set(
      layers.map((job) => job.project ?? defaults?.project).filter((p): p is string => p !== undefined),
    ),
  ];
  const ttls = layers
    .map((job) => job.ttlAfterFinish ?? defaults?.ttlAfterFinish)
    .filter((t): t is number => t !== undefined);
  return {
    specs,
    groups: groupJobs(specs, canaryJobs),
    digest: reuseDigest(
      componentName,
      batchType,
      specs,
      jobs.map((job) => job.payload),
    ),
    projects,
    ttlAfterFinish: ttls.length ? Math.max(...ttls) : undefined,
  };
}

type Prepared = ReturnType<typeof prepare>;

/** The newest earlier job or batch with this digest whose jobs all Succeeded, if any is still kept. */
async function findReusable(deps: ReadDeps, componentName: string, batchType: BatchType, digest: string) {
  for (const name of await deps.store.findByDigest(componentName, batchType, digest, 10)) {
    const batch = await deps.store.getBatch(name);
    if (!batch || batch.component !== componentName) continue;
    if (countsOf(await summariesOf(deps, batch)).Succeeded === batch.size) return batch;
  }
  return undefined;
}

async function recordBatch(
  deps: BatchDeps,
  componentName: string,
  batchType: BatchType,
  batchId: string | undefined,
  prepared: Prepared,
  jobs: JobScheduleDescription[],
  options: RecordOptions,
): Promise<Recorded> {
  const component = componentSettings(deps, componentName);
  const { specs, groups } = prepared;
  const order = groups.flatMap((group) => group.members);
  const created = deps.now();
  const name = newBatchName(componentName, new Date(created));
  const longestRun =
    Math.max(...specs.map((spec) => spec.timeLimitSeconds)) *
    1000 *
    Math.max(1, ...specs.map((s) => s.backoffLimit + 1));
  const batch: BatchRecord = {
    name,
    component: componentName,
    batchType,
    created,
    size: jobs.length,
    groupCount: groups.length,
    ttl: Math.ceil((created + longestRun + component.retention.maxAgeDays * DAY_MS) / 1000),
    digest: prepared.digest,
  };
  if (batchId !== undefined) batch.batchId = batchId;
  if (prepared.projects.length > 0) batch.projects = prepared.projects;
  const caps = deps.runtime.projects.filter(
    (project) => project.maxRunningJobs !== undefined && prepared.projects.includes(project.name),
  );
  if (caps.length > 0)
    batch.projectCaps = Object.fromEntries(caps.map((project) => [project.name, project.maxRunningJobs!]));
  if (prepared.ttlAfterFinish !== undefined) {
    batch.ttlAfterFinish = prepared.ttlAfterFinish;
    // The DynamoDB TTL stays an upper bound; it must not end the record before its own ttlAfterFinish.
    const own = Math.ceil((created + longestRun) / 1000) + prepared.ttlAfterFinish;
    batch.ttl = Math.max(batch.ttl ?? 0, own);
  }
  if (options.submittedBy !== undefined) batch.submittedBy = options.submittedBy;
  if (options.stopPolicy !== undefined) batch.stopPolicy = options.stopPolicy;
  if (options.canary !== undefined) batch.canary = options.canary;
  if (options.maxParallel !== undefined) batch.maxParallel = options.maxParallel;
  if (options.dependsOn !== undefined) batch.dependsOn = options.dependsOn;
  // Payloads first (one object for the whole batch), so nothing is recorded that could not run.
  if (component.payloadPath) {
    batch.payloadKey = await deps.payloads.putBatchPayloads(
      name,
      order.map((position) => jobs[position]!.payload),
    );
  }
  const groupRecords: GroupRecord[] = groups.map((group) => ({
    batchName: name,
    index: group.index,
    offset: group.offset,
    size: group.size,
    spec: group.spec,
    // After a canary: held until every canary job succeeded (lib/service/canary.ts); with dependencies,
    // all held until they are met (lib/service/dependencies.ts).
    state: (options.canary && group.offset >= options.canary.jobs) || options.dependsOn ? "held" : "pending",
    run: 1,
  }));
  const jobIds = order.map((position) => jobs[position]!.jobId);
  await deps.store.createBatch(batch, groupRecords, jobIds);
  deps.logger.info("batch recorded", { batchName: name, jobs: batch.size, groups: groups.length });
  return { batch, groups: groupRecords, jobIds };
}

/**
 * Once recorded, a batch is accepted: a submission that fails now (AWS Batch unreachable, throttled past
 * the retries, the process dying) is resumed by the reconciler from the record, so the caller still gets
 * the batch (Waiting) and nothing is lost or started twice.
 */
async function submitNowOrLater(deps: BatchDeps, recorded: Recorded) {
  const { batch, groups } = recorded;
  try {
    if (batch.size > SYNC_SUBMIT_MAX_JOBS || groups.length > SYNC_SUBMIT_MAX_GROUPS) {
      await deps.submitInBackground(batch.component, batch.name, deps.correlationId);
    } else {
      await submitBatch(deps, batch.component, batch.name, groups);
    }
  } catch (error) {
    deps.logger.warn("submission interrupted; the reconciler resumes it", { batchName: batch.name, error });
  }
}

/** POST /jobs: a single job is a batch of one (Radix). Answers Waiting once it is submitted. */
export async function createJob(
  deps: BatchDeps,
  componentName: string,
  request: JobScheduleDescription,
  options: CreateOptions = {},
): Promise<JobStatus> {
  const prepared = prepare(deps, componentName, "job", undefined, [request]);
  if (options.reuse) {
    const earlier = await findReusable(deps, componentName, "job", prepared.digest);
    if (earlier) return getJob(deps, componentName, jobName(earlier.name, 0));
  }
  const dependsOn = await resolveDependencies(deps, request.dependsOn, { batchType: "job", size: 1 });
  const recorded = await recordBatch(deps, componentName, "job", request.jobId, prepared, [request], {
    ...options,
    dependsOn,
  });
  recorded.batch = await startDependent(deps, recorded.batch);
  await submitNowOrLater(deps, recorded);
  return jobStatusView(recorded.batch, 0, await singleJobEntry(deps, recorded.batch));
}

/** POST /batches: jobs with equal effective specs become one AWS Batch array job. */
export async function createBatch(
  deps: BatchDeps,
  componentName: string,
  request: BatchScheduleDescription,
  options: CreateOptions = {},
): Promise<BatchStatus> {
  const jobs = request.jobScheduleDescriptions;
  const canary = request.canary && {
    ...request.canary,
    jobs: canaryJobsOf(request.canary, jobs.length),
  };
  const prepared = prepare(
    deps,
    componentName,
    "batch",
    request.defaultRadixJobComponentConfig,
    jobs,
    canary?.jobs,
  );
  const pageOfCreate = jobs.length > CREATE_RESPONSE_MAX_JOBS ? { limit: 1 } : {};
  if (options.reuse) {
    const earlier = await findReusable(deps, componentName, "batch", prepared.digest);
    if (earlier) return getBatch(deps, componentName, earlier.name, pageOfCreate);
  }
  const dependsOn = await resolveDependencies(deps, request.dependsOn, {
    batchType: "batch",
    size: jobs.length,
  });
  const recorded = await recordBatch(deps, componentName, "batch", request.batchId, prepared, jobs, {
    ...options,
    stopPolicy: request.stopPolicy,
    maxParallel: request.maxParallel,
    canary,
    dependsOn,
  });
  recorded.batch = await startDependent(deps, recorded.batch);
  await submitNowOrLater(deps, recorded);
  const component = componentSettings(deps, componentName);
  const { batch } = recorded;
  if (batch.size > CREATE_RESPONSE_MAX_JOBS) {
    // Every job is still Waiting; the jobs are listed by GET /batches/{name} with limit and nextToken.
    return batchStatusView(component, batch, [{ counts: { Waiting: batch.size } }], []);
  }
  const shards = await deps.store.listShards(batch.name, 0, Math.ceil(batch.size / SHARD_SIZE));
  return batchStatusView(component, batch, await summariesOf(deps, batch), jobStatusesOf(batch, shards));
}

/**
 * Creation with an `Idempotency-Key`: the first request creates, a repeat (same key, same body) within
 * the window gets the same job or batch again with no second submission, another body is a 409.
 */
export async function createJobOnce(
  deps: ServiceDeps,
  componentName: string,
  request: JobScheduleDescription,
  key: string,
  options: CreateOptions = {},
) {
  if (!deps.idempotency) return createJob(deps, componentName, request, options);
  let created: JobStatus | undefined;
  const name = await deps.idempotency.once(`${componentName}#job`, key, request, async () => {
    created = await createJob(deps, componentName, request, options);
    return created.name;
  });
  return created ?? getJob(deps, componentName, name);
}

export async function createBatchOnce(
  deps: ServiceDeps,
  componentName: string,
  request: BatchScheduleDescription,
  key: string,
  options: CreateOptions = {},
) {
  if (!deps.idempotency) return createBatch(deps, componentName, request, options);
  let created: BatchStatus | undefined;
  const name = await deps.idempotency.once(`${componentName}#batch`, key, request, async () => {
    created = await createBatch(deps, componentName, request, options);
    return created.name;
  });
  return (
    created ??
    getBatch(
      deps,
      componentName,
      name,
      request.jobScheduleDescriptions.length > CREATE_RESPONSE_MAX_JOBS ? { limit: 1 } : {},
    )
  );
}
