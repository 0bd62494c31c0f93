import type { JobEntry } from "../domain/job-state.js";
import { isFinal, STOP_REASON } from "../domain/status.js";
import { type BatchRecord, shardCountOf } from "../store/job-store.js";
import { syncBatchStatus } from "./batch-status.js";
import { decideShard } from "./decide-shard.js";
import type { BatchDeps } from "./deps.js";
import { finishGroupJobs } from "./finish-group.js";

/**
 * A stop of a whole batch, as the request sees it: one write (the record's stopRequested: from now on
 * the batch and its jobs show Stopping) and a hand-over to the background submitter, which carries it
 * out (carryOutBatchStop). So a stop answers in constant time whatever the batch's size; the
 * reconciler carries out what a crash left undone.
 */
export async function requestBatchStop(deps: BatchDeps, batch: BatchRecord) {
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
export async function carryOutBatchStop(deps: BatchDeps, batch: BatchRecord) {
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
    // A dependent stopped because a dependency can no longer be met: its jobs say which.
    else if (group.state !== "failed")
      await finishGroupJobs(deps, group, "Stopped", batch.dependencyUnmet ?? "Job was stopped");
  }
  for (let shard = 0; shard < shardCountOf(batch.size); shard++) {
    const state = await deps.store.getShard(batch.name, shard);
    const slots = [...(state?.entries ?? [])].filter(([, entry]) => ownRunOpen(entry)).map(([slot]) => slot);
    if (slots.length === 0) continue;
    await decideShard(deps, {
      batchName: batch.name,
      shard,
      slots,
      groups,
      input: { kind: "stop" },
      applies: ownRunOpen,
    });
  }
}
