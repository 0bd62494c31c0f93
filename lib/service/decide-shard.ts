import { currentBatchJobId, decide, type Effect, type JobInput } from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { type GroupRecord, groupOfOrdinal, SHARD_SIZE } from "../store/job-store.js";
import type { BatchDeps } from "./deps.js";
import { carryOut } from "./effects.js";
import { updateShard } from "./entries.js";

export interface ShardDecision {
  batchName: string;
  shard: number;
  slots: number[];
  /** The batch's groups (a job's current AWS Batch id comes from its group until it has a run of its own). */
  groups: GroupRecord[];
  input: JobInput;
  /** Jobs this is false for are left as they are (checked again on every re-read of a lost write). */
  applies?: (entry: JobEntry) => boolean;
}

/**
 * A command for many jobs of one shard (a batch stop, a batch priority change): each job's entry goes
 * through the state machine (lib/domain/job-machine.ts) in one shard write, with the outbox first, and
 * then what each decision asked for is carried out. Returns the ordinals whose entry changed.
 */
export async function decideShard(deps: BatchDeps, request: ShardDecision): Promise<number[]> {
  const { batchName, shard, groups, input } = request;
  const now = deps.now();
  const decided = new Map<number, { changed: boolean; effects: readonly Effect[] }>();
  await updateShard(
    deps,
    batchName,
    shard,
    request.slots.map((slot) => ({
      slot,
      change: (entry: JobEntry) => {
        const ordinal = shard * SHARD_SIZE + slot;
        decided.delete(ordinal);
        if (request.applies && !request.applies(entry)) return undefined;
        const group = groupOfOrdinal(groups, ordinal);
        const currentId = group && currentBatchJobId(group, ordinal, entry);
        const decision = decide(entry, input, { group, currentBatchJobId: currentId }, now);
        decided.set(ordinal, { changed: decision.next !== undefined, effects: decision.effects });
        return decision.next;
      },
    })),
    { outboxFirst: true },
  );
  for (const [ordinal, { effects }] of decided) {
    await carryOut(deps, { batchName, ordinal, leaseFrom: now }, effects);
  }
  return [...decided].filter(([, { changed }]) => changed).map(([ordinal]) => ordinal);
}
