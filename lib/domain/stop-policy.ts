import type { StatusCounts } from "./aggregate.js";

/**
 * Beyond Radix: a batch-level rule that stops the rest of a batch once it can no longer end well
 * (Kubernetes Indexed Job `maxFailedIndexes`, OpenPAI `minFailedInstances`/`minSucceededInstances`,
 * HyperQueue `--max-fails`). Named `stopPolicy`, not `failurePolicy`: Radix's `failurePolicy` is a
 * job-level rule set (exit codes → FailJob/Ignore/Count) and is accepted per job and in a batch's
 * defaultRadixJobComponentConfig, so a batch-level field of the same name would read as one of those.
 */
export interface StopPolicy {
  /** The batch is stopped as soon as more than this many of its jobs have failed (Failed or DeadlineExceeded). */
  maxFailedJobs?: number;
  /** The batch is stopped as soon as fewer than this many of its jobs can still succeed. */
  minSucceededJobs?: number;
}

/** What the policy counts in one shard (or a whole batch). */
export interface EndCounts {
  /** Jobs Failed or DeadlineExceeded. */
  failed: number;
  /** Jobs ended without succeeding: failed, and those Stopped. */
  lost: number;
}

export function endCountsOf(counts: Partial<StatusCounts>): EndCounts {
  const failed = (counts.Failed ?? 0) + (counts.DeadlineExceeded ?? 0);
  return { failed, lost: failed + (counts.Stopped ?? 0) };
}

/** The message naming the threshold the batch can no longer meet; undefined while it still can. */
export function breachOf(policy: StopPolicy, size: number, totals: EndCounts): string | undefined {
  if (policy.maxFailedJobs !== undefined && totals.failed > policy.maxFailedJobs) {
    return (
      `stopPolicy.maxFailedJobs (${policy.maxFailedJobs}) exceeded: ${totals.failed} jobs failed; ` +
      "the rest of the batch was stopped"
    );
  }
  if (policy.minSucceededJobs !== undefined && size - totals.lost < policy.minSucceededJobs) {
    return (
      `stopPolicy.minSucceededJobs (${policy.minSucceededJobs}) can no longer be met: ${totals.lost} of ` +
      `${size} jobs ended without succeeding; the rest of the batch was stopped`
    );
  }
  return undefined;
}
