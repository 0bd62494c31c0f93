import { decide } from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { type GroupRecord, SHARD_SIZE, shardOf } from "../store/job-store.js";
import type { BatchDeps } from "./deps.js";
import { updateShard } from "./entries.js";

/**
 * Marks every job of a group that has not ended with a final status the scheduler decided itself: one
 * write per shard, the events through the entries' outbox (the scheduler's own changes).
 */
export async function finishGroupJobs(
  deps: BatchDeps,
  group: GroupRecord,
  status: "Stopped" | "Failed",
  message: string,
): Promise<void> {
  for (let ordinal = group.offset; ordinal < group.offset + group.size; ) {
    const { shard } = shardOf(ordinal);
    const last = Math.min(group.offset + group.size, (shard + 1) * SHARD_SIZE);
    const changes = [];
    for (; ordinal < last; ordinal++) {
      changes.push({
        slot: shardOf(ordinal).slot,
        // A job on a run of its own (an elementwise dependent's released job) is in AWS Batch: stopped
        // through the state machine by the caller (batch-stop.ts), not ended here.
        change: (entry: JobEntry) =>
          entry.run > 1 ? undefined : decide(entry, { kind: "finish", status, message }, {}, deps.now()).next,
      });
    }
    await updateShard(deps, group.batchName, shard, changes, { outboxFirst: true });
  }
}
