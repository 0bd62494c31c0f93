import type { BatchStatusRule } from "../config/schema.js";
import { FINAL_STATUSES, STORED_STATUSES, type StoredStatus } from "./status.js";

/** Number of a batch's jobs in each stored status. */
export type StatusCounts = Record<StoredStatus, number>;

export const emptyCounts = (): StatusCounts =>
  Object.fromEntries(STORED_STATUSES.map((status) => [status, 0])) as StatusCounts;

export function addCounts(into: StatusCounts, from: Partial<Record<string, number>>): StatusCounts {
  for (const status of STORED_STATUSES) into[status] += from[status] ?? 0;
  return into;
}

export interface BatchFacts {
  counts: StatusCounts;
  size: number;
  /** A stop of the whole batch was asked. */
  stopRequested: boolean;
  /** The scheduler stopped it because its stopPolicy could no longer be met: it ends Failed, not Stopped. */
  stopReason?: string;
}

const sum = (counts: StatusCounts, statuses: Iterable<string>) => {
  let total = 0;
  for (const status of statuses) total += counts[status as StoredStatus] ?? 0;
  return total;
};

/**
 * The batch status from its jobs' counts — the written rule (DESIGN.md, Radix documents):
 * 1. A stop was asked: `Stopping` while any job has not ended, then `Stopped` (`Failed` when the
 *    scheduler stopped it because its stopPolicy could no longer be met).
 * 2. All jobs ended: `Succeeded` only when every job succeeded; `Failed` when any failed or ran past its
 *    deadline; otherwise (some stopped one by one, none failed) `Stopped`.
 * 3. Not all ended: `Waiting` while every job waits, else `Running`.
 * Configured `batchStatusRules` (Radix job-scheduler code: All/Any, In/NotIn, first match wins) are
 * checked first; statuses in them are the jobs' stored statuses.
 */
export function batchStatusOf(facts: BatchFacts, rules: readonly BatchStatusRule[] = []): string {
  const { counts, size, stopRequested } = facts;
  for (const rule of rules) {
    const matching = sum(counts, rule.jobStatuses);
    const inSet = rule.operator === "In" ? matching : size - matching;
    if (rule.condition === "All" ? inSet === size : inSet > 0) return rule.batchStatus;
  }
  const ended = sum(counts, FINAL_STATUSES);
  if (stopRequested) return ended < size ? "Stopping" : facts.stopReason ? "Failed" : "Stopped";
  if (ended === size) {
    if (counts.Succeeded === size) return "Succeeded";
    if (counts.Failed + counts.DeadlineExceeded > 0) return "Failed";
    return "Stopped";
  }
  return counts.Waiting === size ? "Waiting" : "Running";
}

export const allEnded = (facts: BatchFacts): boolean => sum(facts.counts, FINAL_STATUSES) === facts.size;
