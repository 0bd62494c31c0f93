import { BadRequestError, NotFoundError } from "../api/errors.js";
import type { Status } from "../api/schemas.js";
import { allEnded } from "../domain/aggregate.js";
import { finishWithoutBatch, type JobEntry } from "../domain/job-state.js";
import { resolveJobInBatch } from "../domain/names.js";
import { isFinal, STOP_REASON } from "../domain/status.js";
import { type BatchRecord, groupOfOrdinal, type ShardState, shardCountOf } from "../store/job-store.js";
import { syncBatchStatus } from "./batch-status.js";
import type { ServiceDeps } from "./deps.js";
import { writeEntryWithRetry } from "./entries.js";
import { allShards, findBatch, findJob } from "./queries.js";
import { currentBatchJobId } from "./reconcile.js";
import { finishGroupJobs } from "./submit.js";
import { countsOf } from "./views.js";

const success = (message: string): Status => ({ status: "Success", message, code: 200 });

async function stopOne(deps: ServiceDeps, batch: BatchRecord, ordinal: number, name: string) {
  let current: JobEntry | undefined;
  const outcome = await writeEntryWithRetry(deps, batch.name, ordinal, (entry) => {
    if (isFinal(entry.status)) {
      throw new BadRequestError(`job ${name} has already ended (${entry.status}) and cannot be stopped`);
    }
    current = entry;
    if (entry.stopRequested !== undefined) return undefined;
    current = { ...entry, v: entry.v + 1, stopRequested: deps.now() };
    return current;
  });
  if (outcome === "missing") throw new NotFoundError("job", name);
  const group = groupOfOrdinal(await deps.store.listGroups(batch.name), ordinal);
  const batchJobId = group && current ? currentBatchJobId(group, ordinal, current) : undefined;
  if (batchJobId) {
    await deps.batch.terminate(batchJobId, STOP_REASON);
  } else {
    // Not (yet) in AWS Batch: nothing will report on it, so it is Stopped now.
    await writeEntryWithRetry(deps, batch.name, ordinal, (entry) =>
      isFinal(entry.status) ? undefined : finishWithoutBatch(entry, "Stopped", deps.now(), "Job was stopped"),
    );
  }
}

/** POST /jobs/{name}/stop (any job) and POST /batches/{b}/jobs/{job}/stop. */
export async function stopJob(deps: ServiceDeps, componentName: string, name: string): Promise<Status> {
  const { batch, ordinal } = await findJob(deps, componentName, name);
  await stopOne(deps, batch, ordinal, name);
  return success(`job ${name} successfully stopped`);
}

export async function stopJobInBatch(
  deps: ServiceDeps,
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

async function stopWholeBatch(
  deps: ServiceDeps,
  batch: BatchRecord,
  ended: boolean,
  shards: readonly ShardState[],
) {
  if (ended) throw new BadRequestError(`batch ${batch.name} has already ended and cannot be stopped`);
  await deps.store.markBatchStopRequested(batch.name, deps.now());
  // From now on the batch is Stopping: announced before its jobs' Stopped changes. A failure here does
  // not fail the stop; the reconciler finds the status unannounced and announces it.
  if (batch.batchType === "batch") {
    await syncBatchStatus(deps, batch.name).catch((error) =>
      deps.logger.error("batch status not synced after a stop", { batchName: batch.name, error }),
    );
  }
  for (const group of await deps.store.listGroups(batch.name)) {
    if (group.state === "submitted" && group.batchJobId)
      await deps.batch.terminate(group.batchJobId, STOP_REASON);
    else if (group.state !== "failed") await finishGroupJobs(deps, group, "Stopped", "Job was stopped");
  }
  // Jobs on a later run (a retry past Batch's attempts, a restart, a priority change) are plain Batch
  // jobs of their own, outside the group's array job: they are stopped one by one.
  for (const shard of shards) {
    for (const entry of shard.entries.values()) {
      if (
        entry.run > 1 &&
        !isFinal(entry.status) &&
        entry.batchJobId &&
        entry.resubmitRequested === undefined
      )
        await deps.batch.terminate(entry.batchJobId, STOP_REASON);
    }
  }
}

/** POST /batches/{name}/stop: stops every array and plain job of the batch. */
export async function stopBatch(deps: ServiceDeps, componentName: string, name: string): Promise<Status> {
  const { batch, shard0 } = await findBatch(deps, componentName, name);
  const shards = await allShards(deps, batch, shard0);
  const counts = countsOf(shards);
  await stopWholeBatch(deps, batch, allEnded({ counts, size: batch.size, stopRequested: false }), shards);
  return success(`batch ${name} successfully stopped`);
}

/** POST /jobs/stop and POST /batches/stop: stop everything of that kind that has not ended. */
export async function stopAll(
  deps: ServiceDeps,
  componentName: string,
  batchType: "job" | "batch",
  /** Access rules: batches the caller may not stop are left alone. */
  allowed: (batch: BatchRecord) => boolean = () => true,
): Promise<Status> {
  let nextToken: string | undefined;
  let stopped = 0;
  do {
    const page = await deps.store.listBatches(componentName, batchType, { limit: 100, nextToken });
    for (const { batch, shard0 } of page.items) {
      const shards = await allShards(deps, batch, shard0);
      const ended = allEnded({ counts: countsOf(shards), size: batch.size, stopRequested: false });
      if (ended || batch.stopRequested !== undefined || !allowed(batch)) continue;
      await stopWholeBatch(deps, batch, false, shards);
      stopped++;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return success(`${stopped} ${batchType === "job" ? "jobs" : "batches"} successfully stopped`);
}

export async function deleteWhole(deps: ServiceDeps, batch: BatchRecord) {
  for (const group of await deps.store.listGroups(batch.name)) {
    if (group.state === "submitted" && group.batchJobId)
      await deps.batch.terminate(group.batchJobId, STOP_REASON);
  }
  if (batch.payloadKey) await deps.payloads.deletePayloads(batch.payloadKey);
  await deps.store.deleteBatch(batch.name, shardCountOf(batch.size), batch.groupCount);
}

/** DELETE /jobs/{name}: a single job only (Radix); stops it first if it is running. */
export async function deleteJob(deps: ServiceDeps, componentName: string, name: string): Promise<Status> {
  const { batch } = await findJob(deps, componentName, name);
  if (batch.batchType !== "job") {
    throw new BadRequestError(`job ${name} belongs to batch ${batch.name}; delete the batch instead`);
  }
  await deleteWhole(deps, batch);
  return success(`job ${name} successfully deleted`);
}

/** DELETE /batches/{name}: the batch, all its jobs and its payloads. */
export async function deleteBatch(deps: ServiceDeps, componentName: string, name: string): Promise<Status> {
  const { batch } = await findBatch(deps, componentName, name);
  await deleteWhole(deps, batch);
  return success(`batch ${name} successfully deleted`);
}
