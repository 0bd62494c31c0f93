/**
 * Beyond Radix: a batch's canary. Its first jobs (in request order) are submitted first, as groups of
 * their own; the rest of the batch is submitted only once every canary job Succeeded. When one ends any
 * other way the batch is stopped before the rest costs anything, and ends Failed (lib/service/canary.ts).
 */
export interface Canary {
  jobs?: number;
  percent?: number;
}

/** At most this many canary jobs: the tracker keeps the set of those that succeeded (a small item). */
export const MAX_CANARY_JOBS = 1000;

/** How many jobs of a batch of `size` the canary takes: `jobs`, or `percent` of them rounded up. */
export const canaryJobsOf = (canary: Canary, size: number): number =>
  canary.jobs ?? Math.max(1, Math.ceil((size * (canary.percent ?? 0)) / 100));

export const canaryFailureMessage = (jobName: string, status: string) =>
  `canary: job ${jobName} ended ${status}; the rest of the batch was never submitted`;

/** Why a job after the canary is still Waiting. */
export const heldReason = (canaryJobs: number) =>
  `held until the batch's canary (its first ${canaryJobs} jobs) has succeeded`;
