import { BadRequestError, NotFoundError } from "../api/errors.js";
import type { Status } from "../api/schemas.js";
import { currentBatchJobId, type Decision, decide } from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { resolveJobInBatch } from "../domain/names.js";
import { isFinal, STOP_REASON } from "../domain/status.js";
import { type BatchRecord, groupOfOrdinal, SHARD_SIZE, shardCountOf } from "../store/job-store.js";
import { syncBatchStatus } from "./batch-status.js";
import { runConcurrently } from "./concurrency.js";
import type { ServiceDeps } from "./deps.js";
import { carryOut } from "./effects.js";
import { updateShard, writeEntryWithRetry } from "./entries.js";
import { findBatch, findJob, singleJobEntry } from "./queries.js";
import { finishGroupJobs } from "./submit.js";

const success = (message: string): Status => ({ status: "Success", message, code: 200 });

/**
 * Stops one job through the state machine (lib/domain/job-machine.ts): the stop is recorded on the job
 * (no new run of it starts after this, and a run that starts anyway is terminated), then its Batch job
 * is terminated, or it ends Stopped at once when it is not in Batch.
 */
async function stopOne(deps: ServiceDeps, batch: BatchRecord, ordinal: number, name: string) {
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

/**
 * Whether every job of the batch has ended: one small read (the batch's tracker, which records its
 * phase; a single job's own item), never its shards.
 */
async function hasEnded(deps: ServiceDeps, batch: BatchRecord): Promise<boolean> {
  if (batch.batchType === "job") return isFinal((await singleJobEntry(deps, batch)).status);
  const tracker = await deps.store.getTracker(batch.name);
  return tracker?.phase === "ended";
}

/**
 * A stop of a whole batch, as the request sees it: one write (the record's stopRequested: from now on
 * the batch and its jobs show Stopping) and a hand-over to the background submitter, which carries it
 * out (carryOutBatchStop). So a stop answers in constant time whatever the batch's size; the
 * reconciler carries out what a crash left undone.
 */
async function requestBatchStop(deps: ServiceDeps, batch: BatchRecord) {
  await deps.store.markBatchStopRequested(batch.name, deps.now());
  await deps.submitInBackground(batch.component, batch.name, deps.correlationId);
}

/** Jobs of a shard a batch stop must reach one by one: later runs (their own Batch jobs), not yet ended. */
const ownRunOpen = (entry: JobEntry) => entry.run > 1 && !isFinal(entry.status);

/**
 * Carries out a recorded batch stop (the background submitter; the reconciler repeats it while jobs are
 * open): announces Stopping, terminates every submitted array and plain job (terminating an array
 * parent ends its children: AWS Batch array_jobs.md), ends the jobs of unsubmitted groups Stopped, and
 * stops one by one the jobs on a later run (a retry past Batch's attempts, a restart, a priority
 * change), each through the state machine, so a run being submitted right now is ended too.
 */
export async function carryOutBatchStop(deps: ServiceDeps, batch: BatchRecord) {
  if (batch.batchType === "batch") {
    // Announced before its jobs' Stopped changes. A failure here does not fail the stop; the reconciler
    // finds the status unannounced and announces it.
    await syncBatchStatus(deps, batch.name).catch((error) =>
      deps.logger.error("batch status not synced after a stop", { batchName: batch.name, error }),
    );
  }
  const groups = await deps.store.listGroups(batch.name);
  for (const group of groups) {
    if (group.state === "submitted" && group.batchJobId)
      await deps.batch.terminate(group.batchJobId, STOP_REASON);
    else if (group.state !== "failed") await finishGroupJobs(deps, group, "Stopped", "Job was stopped");
  }
  for (let shard = 0; shard < shardCountOf(batch.size); shard++) {
    const state = await deps.store.getShard(batch.name, shard);
    const slots = [...(state?.entries ?? [])].filter(([, entry]) => ownRunOpen(entry)).map(([slot]) => slot);
    if (slots.length === 0) continue;
    const effects = new Map<number, Decision["effects"]>();
    const now = deps.now();
    await updateShard(
      deps,
      batch.name,
      shard,
      slots.map((slot) => ({
        slot,
        change: (entry: JobEntry) => {
          const ordinal = shard * SHARD_SIZE + slot;
          effects.delete(ordinal);
          if (!ownRunOpen(entry)) return undefined;
          const group = groupOfOrdinal(groups, ordinal);
          const currentId = group && currentBatchJobId(group, ordinal, entry);
          const decision = decide(entry, { kind: "stop" }, { group, currentBatchJobId: currentId }, now);
          effects.set(ordinal, decision.effects);
          return decision.next;
        },
      })),
      { outboxFirst: true },
    );
    for (const [ordinal, decided] of effects) {
      await carryOut(deps, { batchName: batch.name, ordinal, leaseFrom: now }, decided);
    }
  }
}

/** POST /batches/{name}/stop: stops every array and plain job of the batch (carried out in the background). */
export async function stopBatch(deps: ServiceDeps, componentName: string, name: string): Promise<Status> {
  const batch = await findBatch(deps, componentName, name);
  if (await hasEnded(deps, batch)) {
    throw new BadRequestError(`batch ${name} has already ended and cannot be stopped`);
  }
  await requestBatchStop(deps, batch);
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
  const batch = await findBatch(deps, componentName, name);
  await deleteWhole(deps, batch);
  return success(`batch ${name} successfully deleted`);
}
