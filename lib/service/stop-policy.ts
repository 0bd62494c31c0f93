import { componentOfBatch } from "../domain/names.js";
import { breachOf, endCountsOf } from "../domain/stop-policy.js";
import type { ShardWriteResult } from "../store/job-store.js";
import type { BatchDeps } from "./deps.js";

type Moved = NonNullable<ShardWriteResult["counts"]>;

/**
 * The events path's check of a batch's stopPolicy, in constant cost per event: the shard's index (just
 * written, returned by the write) carries the policy and the shard's counts; only a write that ended a
 * job without success writes the shard's counts into the batch's tracker (one UpdateItem returning the
 * totals over all shards, no shard reads). When a threshold can no longer be met, the first to see it
 * records the reason with a stop of the batch and hands the stop to the background submitter, which
 * terminates the array parents (ending their children) and ends unsubmitted groups (batch-stop.ts).
 *
 * A crash between the shard's write and the tracker's leaves the shard's count behind only until its
 * next end of a job (the count is set, not added), or until the reconciler's pass (reconcile.ts).
 */
export async function checkStopPolicy(
  deps: BatchDeps,
  batchName: string,
  shard: number,
  first: Moved,
  last: Moved,
  correlationId: string | undefined,
) {
  const policy = last.stopPolicy;
  if (!policy || last.batchType !== "batch") return;
  const before = endCountsOf(first.before);
  const after = endCountsOf(last.after);
  if (after.lost <= before.lost) return;
  const totals = await deps.store.recordShardEnds(batchName, shard, after);
  if (!totals) return;
  await stopIfBreached(deps, batchName, policy, policy.batchSize, totals, correlationId);
}

/** Records and hands over the stop when the totals breach the policy; returns the reason, if any. */
export async function stopIfBreached(
  deps: BatchDeps,
  batchName: string,
  policy: Parameters<typeof breachOf>[0],
  size: number,
  totals: Parameters<typeof breachOf>[2],
  correlationId: string | undefined,
): Promise<string | undefined> {
  const reason = breachOf(policy, size, totals);
  if (!reason) return undefined;
  await stopWithReason(deps, batchName, reason, correlationId);
  return reason;
}

/**
 * The scheduler stops a batch itself (a stopPolicy breach, a failed canary): records the stop with its
 * reason (the first caller wins; nothing when a stop was already asked) and hands it to the background
 * submitter, which carries it out (batch-stop.ts). The batch then ends Failed with the reason as message.
 */
export async function stopWithReason(
  deps: BatchDeps,
  batchName: string,
  reason: string,
  correlationId: string | undefined,
) {
  if (!(await deps.store.recordPolicyStop(batchName, deps.now(), reason))) return;
  deps.logger.warn("batch stopped by the scheduler", { batchName, reason });
  const component = componentOfBatch(batchName);
  if (component) await deps.submitInBackground(component, batchName, correlationId ?? deps.correlationId);
}
