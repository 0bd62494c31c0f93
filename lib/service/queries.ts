import { NotFoundError } from "../api/errors.js";
import type { BatchStatus, JobStatus } from "../api/schemas.js";
import { isBatchName, parseJobName, resolveJobInBatch } from "../domain/names.js";
import {
  type BatchRecord,
  SHARD_SIZE,
  type ShardState,
  type ShardSummary,
  shardCountOf,
  shardOf,
} from "../store/job-store.js";
import { componentSettings, type ReadDeps } from "./deps.js";
import { batchStatusView, jobStatusesOf, jobStatusView } from "./views.js";

/** Finds a job by name: two item reads (batch record, the job's item), whatever the batch size. */
export async function findJob(deps: ReadDeps, componentName: string, name: string) {
  const parsed = parseJobName(name);
  const batch = parsed && (await deps.store.getBatch(parsed.batchName));
  if (!parsed || !batch || batch.component !== componentName || parsed.ordinal >= batch.size) {
    throw new NotFoundError("job", name);
  }
  const { shard, slot } = shardOf(parsed.ordinal);
  const entry = (await deps.store.getEntries(parsed.batchName, shard, [slot])).get(slot);
  if (!entry) throw new NotFoundError("job", name);
  return { batch, ordinal: parsed.ordinal, entry };
}

export async function getJob(deps: ReadDeps, componentName: string, name: string): Promise<JobStatus> {
  const { batch, ordinal, entry } = await findJob(deps, componentName, name);
  return jobStatusView(batch, ordinal, entry);
}

/** GET /batches/{b}/jobs/{job}: the job may be named in full or by its 8-character suffix. */
export async function getJobInBatch(deps: ReadDeps, componentName: string, batchName: string, job: string) {
  const resolved = resolveJobInBatch(batchName, job);
  if (!resolved) throw new NotFoundError("job", job);
  const found = await findJob(deps, componentName, `${batchName}-${job.length === 8 ? job : job.slice(-8)}`);
  return { ...found, view: jobStatusView(found.batch, found.ordinal, found.entry) };
}

export async function findBatch(deps: ReadDeps, componentName: string, name: string) {
  const batch = isBatchName(name) ? await deps.store.getBatch(name) : undefined;
  if (!batch || batch.component !== componentName) throw new NotFoundError("batch", name);
  return batch;
}

/** Every shard of a batch with its jobs (a read of the whole batch: for the requests that need it all). */
export function allShards(deps: ReadDeps, batch: BatchRecord): Promise<ShardState[]> {
  return deps.store.listShards(batch.name, 0, shardCountOf(batch.size));
}

/** The batch's counts and times from its shards' small index items (one per 100 jobs), not their jobs. */
export function summariesOf(deps: ReadDeps, batch: BatchRecord): Promise<ShardSummary[]> {
  return deps.store.getSummaries(batch.name, shardCountOf(batch.size));
}

export interface JobPage {
  limit?: number;
  nextToken?: string;
}

/**
 * GET /batches/{name}: the batch with its jobs. Without `limit` every job is listed (Radix); with it,
 * `limit` jobs from `nextToken` on (a job ordinal) and a `nextToken` for the rest. The counts come from
 * the shards' index items; only the page's shards are read with their jobs.
 */
export async function getBatch(
  deps: ReadDeps,
  componentName: string,
  name: string,
  page: JobPage = {},
): Promise<BatchStatus> {
  const batch = await findBatch(deps, componentName, name);
  const component = componentSettings(deps, componentName);
  const summaries = await summariesOf(deps, batch);
  if (page.limit === undefined) {
    return batchStatusView(component, batch, summaries, jobStatusesOf(batch, await allShards(deps, batch)));
  }
  const from = Math.min(Number(page.nextToken ?? 0), batch.size);
  const firstShard = Math.floor(from / SHARD_SIZE);
  const lastShard = Math.ceil(Math.min(batch.size, from + page.limit) / SHARD_SIZE);
  const shards = await deps.store.listShards(batch.name, firstShard, Math.max(0, lastShard - firstShard));
  const all = jobStatusesOf(batch, shards);
  const skip = from % SHARD_SIZE;
  const view = batchStatusView(component, batch, summaries, all.slice(skip, skip + page.limit));
  if (from + page.limit < batch.size) view.nextToken = String(from + page.limit);
  return view;
}

/** The entry of a single job (a batch of one). */
export async function singleJobEntry(deps: ReadDeps, batch: BatchRecord) {
  return (await deps.store.getEntries(batch.name, 0, [0])).get(0)!;
}

/** GET /jobs: single jobs (batches of one), newest first. */
export async function listJobs(deps: ReadDeps, componentName: string): Promise<JobStatus[]> {
  const { items } = await deps.store.listBatches(componentName, "job", {});
  return Promise.all(items.map(async (batch) => jobStatusView(batch, 0, await singleJobEntry(deps, batch))));
}

/** GET /batches: batches with their status, without their jobs (Radix), newest first. */
export async function listBatches(deps: ReadDeps, componentName: string): Promise<BatchStatus[]> {
  const component = componentSettings(deps, componentName);
  const { items } = await deps.store.listBatches(componentName, "batch", {});
  return Promise.all(
    items.map(async (batch) => batchStatusView(component, batch, await summariesOf(deps, batch), [])),
  );
}
