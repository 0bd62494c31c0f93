import { NotFoundError } from "../api/errors.js";
import type { BatchStatus, JobStatus } from "../api/schemas.js";
import { isBatchName, parseJobName, resolveJobInBatch } from "../domain/names.js";
import { type BatchRecord, SHARD_SIZE, type ShardState, shardOf } from "../store/job-store.js";
import { componentSettings, type ServiceDeps } from "./deps.js";
import { batchStatusView, jobStatusesOf, jobStatusView } from "./views.js";

/** Finds a job by name: two item reads (batch record, the job's shard), whatever the batch size. */
export async function findJob(deps: ServiceDeps, componentName: string, name: string) {
  const parsed = parseJobName(name);
  const found = parsed && (await deps.store.getBatch(parsed.batchName));
  if (!parsed || !found || found.batch.component !== componentName || parsed.ordinal >= found.batch.size) {
    throw new NotFoundError("job", name);
  }
  const { shard, slot } = shardOf(parsed.ordinal);
  const state = shard === 0 ? found.shard0 : await deps.store.getShard(parsed.batchName, shard);
  const entry = state?.entries.get(slot);
  if (!entry) throw new NotFoundError("job", name);
  return { batch: found.batch, ordinal: parsed.ordinal, entry, shard0: found.shard0 };
}

export async function getJob(deps: ServiceDeps, componentName: string, name: string): Promise<JobStatus> {
  const { batch, ordinal, entry } = await findJob(deps, componentName, name);
  return jobStatusView(batch, ordinal, entry);
}

/** GET /batches/{b}/jobs/{job}: the job may be named in full or by its 8-character suffix. */
export async function getJobInBatch(
  deps: ServiceDeps,
  componentName: string,
  batchName: string,
  job: string,
) {
  const resolved = resolveJobInBatch(batchName, job);
  if (!resolved) throw new NotFoundError("job", job);
  const found = await findJob(deps, componentName, `${batchName}-${job.length === 8 ? job : job.slice(-8)}`);
  return { ...found, view: jobStatusView(found.batch, found.ordinal, found.entry) };
}

export async function findBatch(deps: ServiceDeps, componentName: string, name: string) {
  const found = isBatchName(name) ? await deps.store.getBatch(name) : undefined;
  if (!found || found.batch.component !== componentName) throw new NotFoundError("batch", name);
  return found;
}

/** All shards of a batch (shard 0 already read with the record). */
export async function allShards(
  deps: ServiceDeps,
  batch: BatchRecord,
  shard0: ShardState,
): Promise<ShardState[]> {
  const count = Math.ceil(batch.size / SHARD_SIZE);
  return count <= 1 ? [shard0] : [shard0, ...(await deps.store.listShards(batch.name, 1, count - 1))];
}

export interface JobPage {
  limit?: number;
  nextToken?: string;
}

/**
 * GET /batches/{name}: the batch with its jobs. Without `limit` every job is listed (Radix); with it,
 * `limit` jobs from `nextToken` on (a job ordinal) and a `nextToken` for the rest.
 */
export async function getBatch(
  deps: ServiceDeps,
  componentName: string,
  name: string,
  page: JobPage = {},
): Promise<BatchStatus> {
  const { batch, shard0 } = await findBatch(deps, componentName, name);
  const component = componentSettings(deps, componentName);
  const shards = await allShards(deps, batch, shard0);
  if (page.limit === undefined)
    return batchStatusView(component, batch, shards, jobStatusesOf(batch, shards));
  const from = Number(page.nextToken ?? 0);
  const all = jobStatusesOf(
    batch,
    shards.slice(Math.floor(from / SHARD_SIZE), Math.ceil((from + page.limit) / SHARD_SIZE)),
  );
  const skip = from % SHARD_SIZE;
  const view = batchStatusView(component, batch, shards, all.slice(skip, skip + page.limit));
  if (from + page.limit < batch.size) view.nextToken = String(from + page.limit);
  return view;
}

/** GET /jobs: single jobs (batches of one), newest first. */
export async function listJobs(deps: ServiceDeps, componentName: string): Promise<JobStatus[]> {
  const { items } = await deps.store.listBatches(componentName, "job", {});
  return items.map(({ batch, shard0 }) => jobStatusView(batch, 0, shard0.entries.get(0)!));
}

/** GET /batches: batches with their status, without their jobs (Radix), newest first. */
export async function listBatches(deps: ServiceDeps, componentName: string): Promise<BatchStatus[]> {
  const component = componentSettings(deps, componentName);
  const { items } = await deps.store.listBatches(componentName, "batch", {});
  return Promise.all(
    items.map(async ({ batch, shard0 }) =>
      batchStatusView(component, batch, await allShards(deps, batch, shard0), []),
    ),
  );
}
