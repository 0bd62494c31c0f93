import { BadRequestError, NotFoundError } from "../api/errors.js";
import type { Status } from "../api/schemas.js";
import { currentBatchJobId, type Decision, decide } from "../domain/job-machine.js";
import { resolveJobInBatch } from "../domain/names.js";
import { isFinal, STOP_REASON } from "../domain/status.js";
import { type BatchRecord, groupOfOrdinal, shardCountOf } from "../store/job-store.js";
import { requestBatchStop } from "./batch-stop.js";
import { runConcurrently } from "./concurrency.js";
import { onDeleted } from "./dependencies.js";
import type { BatchDeps, ReadDeps } from "./deps.js";
import { carryOut } from "./effects.js";
import { writeEntryWithRetry } from "./entries.js";
import { findBatch, findJob, singleJobEntry } from "./queries.js";

const success = (message: string): Status => ({ status: "Success", message, code: 200 });

/**
 * Stops one job through the state machine (lib/domain/job-machine.ts): the stop is recorded on the job
 * (no new run of it starts after this, and a run that starts anyway is terminated), then its Batch job
 * is terminated, or it ends Stopped at once when it is not in Batch.
 */
async function stopOne(deps: BatchDeps, batch: BatchRecord, ordinal: number, name: string) {
  const group = groupOfOrdinal(await deps.store.listGroups(batch.name), ordinal);
  let decision: Decision | undefined;
  const outcome = await writeEntryWithRetry(deps, batch.name, ordinal, (entry) => {
    const currentId = group && currentBatchJobId(group, ordinal, entry);
    decision = decide(entry, { kind: "stop" }, { group, currentBatchJobId: currentId }, deps.now());
    if (decision.refusal) {
      throw new BadRequestError(`job ${name} has already ended (${entry.status}) and cannot be stopped`);
    }
    return decision.next;
  });
  if (outcome === "missing" || !decision) throw new NotFoundError("job", name);
  await carryOut(deps, { batchName: batch.name, ordinal, group, leaseFrom: deps.now() }, decision.effects);
}

/** POST /jobs/{name}/stop (any job) and POST /batches/{b}/jobs/{job}/stop. */
export async function stopJob(deps: BatchDeps, componentName: string, name: string): Promise<Status> {
  const { batch, ordinal } = await findJob(deps, componentName, name);
  await stopOne(deps, batch, ordinal, name);
  return success(`job ${name} successfully stopped`);
}

export async function stopJobInBatch(
  deps: BatchDeps,
  componentName: string,
  batchName: string,
  job: string,
): Promise<Status> {
  const resolved = resolveJobInBatch(batchName, job);
  if (!resolved) throw new NotFoundError("job", job);
  const { batch, ordinal } = await findJob(deps, componentName, `${batchName}-${job.slice(-8)}`);
  const name = `${batchName}-${job.slice(-8)}`;
  await stopOne(deps, batch, ordinal, name);
  return success(`job ${name} in the batch ${batchName} successfully stopped`);
}

/**
 * Whether every job of the batch has ended: one small read (the batch's tracker, which records its
 * phase; a single job's own item), never its shards.
 */
async function hasEnded(deps: ReadDeps, batch: BatchRecord): Promise<boolean> {
  if (batch.batchType === "job") return isFinal((await singleJobEntry(deps, batch)).status);
  const tracker = await deps.store.getTracker(batch.name);
  return tracker?.phase === "ended";
}

/** POST /batches/{name}/stop: stops every array and plain job of the batch (carried out in the background). */
export async function stopBatch(deps: BatchDeps, componentName: string, name: string): Promise<Status> {
  const batch = await findBatch(deps, componentName, name);
  if (await hasEnded(deps, batch)) {
    throw new BadRequestError(`batch ${name} has already ended and cannot be stopped`);
  }
  await requestBatchStop(deps, batch);
  return success(`batch ${name} successfully stopped`);
}

/** POST /jobs/stop and POST /batches/stop: stop everything of that kind that has not ended. */
export async function stopAll(
  deps: BatchDeps,
  componentName: string,
  batchType: "job" | "batch",
  /** Access rules: batches the caller may not stop are left alone. */
  allowed: (batch: BatchRecord) => boolean = () => true,
): Promise<Status> {
  let nextToken: string | undefined;
  let stopped = 0;
  do {
    const page = await deps.store.listBatches(componentName, batchType, { limit: 100, nextToken });
    await runConcurrently(page.items, STOP_ALL_CONCURRENCY, async (batch) => {
      if (batch.stopRequested !== undefined || !allowed(batch)) return;
      if (await hasEnded(deps, batch)) return;
      await requestBatchStop(deps, batch);
      stopped++;
    });
    nextToken = page.nextToken;
  } while (nextToken);
  return success(`${stopped} ${batchType === "job" ? "jobs" : "batches"} successfully stopped`);
}

/** Batches looked at in parallel by a stop of all. */
const STOP_ALL_CONCURRENCY = 8;

export async function deleteWhole(deps: BatchDeps, batch: BatchRecord) {
  for (const group of await deps.store.listGroups(batch.name)) {
    if (group.state === "submitted" && group.batchJobId)
      await deps.batch.terminate(group.batchJobId, STOP_REASON);
  }
  await terminateOwnRuns(deps, batch);
  if (batch.payloadKey) await deps.payloads.deletePayloads(batch.payloadKey);
  await deps.store.deleteBatch(batch.name, shardCountOf(batch.size), batch.groupCount);
  // Its dependents can no longer be met; its own marks leave what it waited for.
  await onDeleted(deps, batch);
}

/** DELETE /jobs/{name}: a single job only (Radix); stops it first if it is running. */
export async function deleteJob(deps: BatchDeps, componentName: string, name: string): Promise<Status> {
  const { batch } = await findJob(deps, componentName, name);
  if (batch.batchType !== "job") {
    throw new BadRequestError(`job ${name} belongs to batch ${batch.name}; delete the batch instead`);
  }
  await deleteWhole(deps, batch);
  return success(`job ${name} successfully deleted`);
}

/** DELETE /batches/{name}: the batch, all its jobs and its payloads. */
export async function deleteBatch(deps: BatchDeps, componentName: string, name: string): Promise<Status> {
  const batch = await findBatch(deps, componentName, name);
  await deleteWhole(deps, batch);
  return success(`batch ${name} successfully deleted`);
}

/**
 * Runs the scheduler submitted itself (a retry beyond Batch's 10 attempts, a restart, a priority change)
 * are AWS Batch jobs of their own, not children of a group's array job: terminating the groups does not
 * end them, so each one still open is terminated too. Only shards whose index shows an open job are read
 * (a finished batch, as retention deletes them, costs one small read per shard).
 */
async function terminateOwnRuns(deps: BatchDeps, batch: BatchRecord) {
  const summaries = await deps.store.getSummaries(batch.name, shardCountOf(batch.size));
  for (const summary of summaries) {
    if (!Object.entries(summary.counts).some(([status, count]) => count && !isFinal(status))) continue;
    const shard = await deps.store.getShard(batch.name, summary.index);
    for (const entry of shard?.entries.values() ?? []) {
      if (
        entry.run > 1 &&
        !isFinal(entry.status) &&
        entry.resubmitRequested === undefined &&
        entry.batchJobId
      )
        await deps.batch.terminate(entry.batchJobId, STOP_REASON);
    }
  }
}
