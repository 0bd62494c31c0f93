import { currentBatchJobId } from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { type BatchRecord, groupOfOrdinal } from "../store/job-store.js";
import type { ServiceDeps } from "./deps.js";

/** Streams of attempts in progress already asked for, by Batch job and attempt: a follower polls. */
const known = new Map<string, string>();
const KNOWN_MAX = 1000;

/**
 * The log stream of each of a job's attempts (undefined: none yet). The attempt in progress may not
 * have its stream on the job: a RUNNING change is recorded in the shard's index alone
 * (lib/domain/index-state.ts), which keeps the attempt's start but not its stream. AWS Batch's
 * DescribeJobs names it: one call, only when the job runs and the stream is missing, and once per attempt
 * in a warm process (a follower polls every second or so; DescribeJobs is throttled per account).
 */
export async function attemptStreams(
  deps: Pick<ServiceDeps, "batch" | "store">,
  batch: BatchRecord,
  ordinal: number,
  entry: JobEntry,
): Promise<(string | undefined)[]> {
  const streams = entry.attempts.map((attempt) => attempt.log);
  const last = entry.attempts.at(-1);
  const running = entry.status === "Active" || entry.status === "Running";
  if (!running || !last || last.log || last.end !== undefined || last.run !== entry.run) return streams;
  const group =
    entry.run > 1
      ? { state: "submitted", offset: ordinal, size: 1 }
      : groupOfOrdinal(await deps.store.listGroups(batch.name), ordinal);
  const batchJobId = group && currentBatchJobId(group, ordinal, entry);
  if (!batchJobId) return streams;
  const key = `${batchJobId}#${streams.length}`;
  const cached = known.get(key);
  if (cached) {
    streams[streams.length - 1] = cached;
    return streams;
  }
  const [view] = await deps.batch.describe([batchJobId]);
  if (view?.logStreamName && (view.status === "RUNNING" || view.status === "STARTING")) {
    streams[streams.length - 1] = view.logStreamName;
    if (known.size >= KNOWN_MAX) known.delete(known.keys().next().value!);
    known.set(key, view.logStreamName);
  }
  return streams;
}
