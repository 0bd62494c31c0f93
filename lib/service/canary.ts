import { canaryFailureMessage } from "../domain/canary.js";
import { componentOfBatch, jobName } from "../domain/names.js";
import type { BatchRecord, ShardState } from "../store/job-store.js";
import { SHARD_SIZE } from "../store/job-store.js";
import type { BatchDeps } from "./deps.js";
import { stopWithReason } from "./stop-policy.js";

/** A job that just ended, as the events path saw it. */
export interface EndedJob {
  ordinal: number;
  status: string;
}

/**
 * The events path's part of a canary (lib/domain/canary.ts), at constant cost per event: the shard's
 * index (returned by its write) says how many canary jobs there are, so only canary jobs' ends do
 * anything. A canary job that ends without success stops the batch (its held groups end Stopped, never
 * submitted; it ends Failed with a message naming the job). One that succeeds joins the tracker's set of
 * successes (one UpdateItem); the one that completes the set releases the held groups.
 */
export async function checkCanary(
  deps: BatchDeps,
  batchName: string,
  canaryJobs: number,
  ended: readonly EndedJob[],
  correlationId: string | undefined,
) {
  for (const job of ended) {
    if (job.ordinal >= canaryJobs) continue;
    if (job.status !== "Succeeded") {
      await stopWithReason(
        deps,
        batchName,
        canaryFailureMessage(jobName(batchName, job.ordinal), job.status),
        correlationId,
      );
      return;
    }
    if ((await deps.store.recordCanarySuccess(batchName, job.ordinal)) >= canaryJobs)
      await releaseCanary(deps, batchName, correlationId);
  }
}

/** Every canary job succeeded: the held groups become pending and go to the background submitter. */
export async function releaseCanary(deps: BatchDeps, batchName: string, correlationId: string | undefined) {
  if (!(await deps.store.releaseCanary(batchName, deps.now()))) return;
  deps.logger.info("canary passed; submitting the rest of the batch", { batchName });
  for (const group of await deps.store.listGroups(batchName)) {
    if (group.state === "held") await deps.store.updateGroup({ ...group, state: "pending" }, "held");
  }
  const component = componentOfBatch(batchName);
  if (component) await deps.submitInBackground(component, batchName, correlationId ?? deps.correlationId);
}

/**
 * The reconciler's pass (it has read every shard): what the events path missed (a crash between a canary
 * job's write and the tracker's) is decided from the canary jobs' entries.
 */
export async function reconcileCanary(deps: BatchDeps, batch: BatchRecord, shards: readonly ShardState[]) {
  if (!batch.canary || batch.canaryReleased !== undefined || batch.stopRequested !== undefined) return;
  const ended: EndedJob[] = [];
  for (const shard of shards) {
    for (const [slot, entry] of shard.entries) {
      const ordinal = shard.index * SHARD_SIZE + slot;
      if (
        ordinal < batch.canary.jobs &&
        ["Succeeded", "Failed", "Stopped", "DeadlineExceeded"].includes(entry.status)
      )
        ended.push({ ordinal, status: entry.status });
    }
  }
  const failed = ended.find((job) => job.status !== "Succeeded");
  if (failed) {
    await checkCanary(deps, batch.name, batch.canary.jobs, [failed], undefined);
  } else if (ended.length === batch.canary.jobs) {
    await releaseCanary(deps, batch.name, undefined);
  }
}
