import { FINAL_STATUSES } from "./status.js";

/**
 * Where a batch, or one shard of it, is in its life: every job Waiting, every job ended, or in between.
 * Under the default rule (aggregate.ts) a batch's status can only change when its phase changes or a
 * stop is asked. That is what lets the scheduler notice batch status changes without summing all
 * shards on every job change: a shard tells the batch only when its own phase flips
 * (lib/service/batch-status.ts), which happens a few times per shard, not per job.
 */
export type Phase = "waiting" | "active" | "ended";

/** The phase of a shard (or a whole batch) of `size` jobs with these counts by stored status. */
export function phaseOf(counts: Partial<Record<string, number>>, size: number): Phase {
  let ended = 0;
  for (const status of FINAL_STATUSES) ended += counts[status] ?? 0;
  if (ended === size) return "ended";
  return (counts.Waiting ?? 0) === size ? "waiting" : "active";
}

/**
 * A shard's membership in the batch's two shard sets: `started` (not every job Waiting) and `ended`
 * (every job ended). Sets, not counters, so that recording a membership again is harmless.
 */
export interface ShardMembership {
  started: boolean;
  ended: boolean;
}

export const membershipOf = (phase: Phase): ShardMembership => ({
  started: phase !== "waiting",
  ended: phase === "ended",
});

/** The batch's phase from how many of its `shardCount` shards have started and have ended. */
export function batchPhaseOf(startedShards: number, endedShards: number, shardCount: number): Phase {
  if (endedShards >= shardCount) return "ended";
  return startedShards === 0 ? "waiting" : "active";
}
