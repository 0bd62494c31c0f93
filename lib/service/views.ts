import type { BatchStatus, JobStatus, PodStatus } from "../api/schemas.js";
import type { ComponentSettings } from "../config/runtime.js";
import { addCounts, batchStatusOf, emptyCounts, type StatusCounts } from "../domain/aggregate.js";
import { heldReason } from "../domain/canary.js";
import { dependencyWaitReason, heldByDependencies } from "../domain/dependencies.js";
import type { Attempt, JobEntry } from "../domain/job-state.js";
import { jobName } from "../domain/names.js";
import { isFinal } from "../domain/status.js";
import type { BatchRecord, ShardState, ShardSummary } from "../store/job-store.js";
import { SHARD_SIZE } from "../store/job-store.js";
import { parallelWaitReason, projectCapWaitReason } from "./max-parallel.js";

/** RFC 3339 UTC without fractions, as Radix shows times; null when unset (Radix code, DESIGN.md). */
export const rfc3339 = (ms: number | undefined): string | null =>
  ms === undefined ? null : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** `Stopping` is shown while a stop was asked and the job has not ended. */
export function displayStatus(entry: JobEntry, batchStopRequested: boolean): JobStatus["status"] {
  if (!isFinal(entry.status) && (entry.stopRequested !== undefined || batchStopRequested)) return "Stopping";
  return entry.status;
}

function replicaStatus(entry: JobEntry, index: number, last: boolean): string {
  const attempt = entry.attempts[index]!;
  if (attempt.end === undefined) return attempt.start === undefined ? "Pending" : "Running";
  if (last && entry.status === "Stopped") return "Stopped";
  return attempt.exitCode === 0 ? "Succeeded" : "Failed";
}

/** Kubernetes-style reason, as Radix shows it: `Completed`, else the container's reason or `Error`. */
const podReason = (attempt: JobEntry["attempts"][number]) =>
  attempt.exitCode === 0
    ? "Completed"
    : (attempt.reason ?? (attempt.exitCode === undefined ? attempt.statusReason : undefined) ?? "Error");

function podStatusOf(
  name: string,
  attempt: Attempt,
  podIndex: number,
  status: string,
  batch: BatchRecord,
): PodStatus {
  return {
    name: `${name}-${podIndex}`,
    created: rfc3339(attempt.start ?? batch.created),
    startTime: rfc3339(attempt.start),
    endTime: rfc3339(attempt.end),
    containerStarted: rfc3339(attempt.start),
    replicaStatus: { status },
    podIndex,
    ...(attempt.exitCode === undefined ? {} : { exitCode: attempt.exitCode }),
    ...(attempt.end === undefined ? {} : { reason: podReason(attempt) }),
    ...(attempt.statusReason ? { statusMessage: attempt.statusReason } : {}),
    ...(attempt.end === undefined || attempt.exitCode === 0 ? {} : { failureKind: attempt.kind }),
  };
}

function podStatuses(name: string, entry: JobEntry, batch: BatchRecord): PodStatus[] {
  const before = entry.older?.count ?? 0;
  const kept = entry.attempts.map((attempt, index) =>
    podStatusOf(
      name,
      attempt,
      before + index,
      replicaStatus(entry, index, index === entry.attempts.length - 1),
      batch,
    ),
  );
  const older = entry.older;
  if (!older) return kept;
  const first = older.firstFailure
    ? podStatusOf(name, older.firstFailure, older.firstFailureIndex ?? 0, "Failed", batch)
    : {
        name: `${name}-0`,
        created: rfc3339(batch.created),
        startTime: null,
        endTime: null,
        containerStarted: null,
        replicaStatus: { status: "Failed" },
        podIndex: 0,
      };
  return [{ ...first, summarizedAttempts: older.count }, ...kept];
}

/** Time in each phase: waiting from creation to the first start, running from there to the end (or now). */
function phaseSeconds(created: number, entry: JobEntry, now: number) {
  const seconds = (ms: number) => Math.max(0, Math.round(ms / 100) / 10);
  const end = entry.ended ?? now;
  if (entry.started === undefined) return { waiting: seconds(end - created), running: 0 };
  return { waiting: seconds(entry.started - created), running: seconds(end - entry.started) };
}

export function jobStatusView(
  batch: BatchRecord,
  ordinal: number,
  entry: JobEntry,
  now = Date.now(),
): JobStatus {
  const name = jobName(batch.name, ordinal);
  const inBatch = batch.batchType === "batch";
  const failed =
    (entry.older?.failed ?? 0) +
    entry.attempts.filter((attempt) => attempt.end !== undefined && attempt.exitCode !== 0).length;
  const view: JobStatus = {
    name,
    created: rfc3339(batch.created),
    started: rfc3339(entry.started),
    ended: rfc3339(entry.ended),
    updated: rfc3339(entry.updated ?? batch.created),
    status: displayStatus(entry, batch.stopRequested !== undefined),
    failed,
    podStatuses: podStatuses(name, entry, batch),
  };
  if (entry.jobId !== undefined) view.jobId = entry.jobId;
  else if (!inBatch && batch.batchId !== undefined) view.jobId = batch.batchId;
  if (inBatch) {
    view.batchName = batch.name;
    if (batch.batchId !== undefined) view.batchId = batch.batchId;
  }
  if (entry.message) view.message = entry.message;
  if (entry.batchStatus) view.batchJobStatus = entry.batchStatus;
  if (entry.statusReason) view.statusReason = entry.statusReason;
  else if (
    batch.canary &&
    batch.canaryReleased === undefined &&
    ordinal >= batch.canary.jobs &&
    entry.status === "Waiting"
  )
    view.statusReason = heldReason(batch.canary.jobs);
  else if (
    (batch.maxParallel !== undefined || batch.projectCaps) &&
    entry.status === "Waiting" &&
    entry.batchStatus === "RUNNABLE"
  )
    view.statusReason = [
      batch.maxParallel !== undefined ? parallelWaitReason(batch.maxParallel) : undefined,
      batch.projectCaps ? projectCapWaitReason(batch.projectCaps) : undefined,
    ]
      .filter((reason) => reason !== undefined)
      .join("; ");
  else if (heldByDependencies(batch, entry))
    view.statusReason = dependencyWaitReason(batch.dependsOn!, batch.dependenciesMet !== undefined, ordinal);
  if (entry.exitCode !== undefined) view.exitCode = entry.exitCode;
  view.phaseSeconds = phaseSeconds(batch.created, entry, now);
  if (entry.restarted !== undefined) view.restart = rfc3339(entry.restarted) ?? undefined;
  if (entry.priority !== undefined) view.priority = entry.priority;
  if (batch.projects?.length === 1) view.project = batch.projects[0];
  if (batch.submittedBy !== undefined) view.submittedBy = batch.submittedBy;
  if (!inBatch) Object.assign(view, dependencyFieldsOf(batch));
  return view;
}

/** What a job or batch waits for, as asked, and when that was met (lib/domain/dependencies.ts). */
function dependencyFieldsOf(batch: BatchRecord): Pick<JobStatus, "dependsOn" | "dependenciesMet"> {
  if (!batch.dependsOn?.length) return {};
  return {
    dependsOn: batch.dependsOn.map(({ name, condition, elementwise }) => ({
      name,
      condition,
      ...(elementwise ? { elementwise } : {}),
    })),
    dependenciesMet: rfc3339(batch.dependenciesMet),
  };
}

export function countsOf(shards: readonly Pick<ShardSummary, "counts">[]): StatusCounts {
  const counts = emptyCounts();
  for (const shard of shards) addCounts(counts, shard.counts);
  return counts;
}

export function jobStatusesOf(batch: BatchRecord, shards: readonly ShardState[]): JobStatus[] {
  const statuses: JobStatus[] = [];
  for (const shard of shards) {
    const slots = [...shard.entries.keys()].sort((a, b) => a - b);
    for (const slot of slots)
      statuses.push(jobStatusView(batch, shard.index * SHARD_SIZE + slot, shard.entries.get(slot)!));
  }
  return statuses;
}

/** What the batch status rule needs to know of a batch, with its counts. */
export const batchFactsOf = (batch: BatchRecord, counts: StatusCounts) => ({
  counts,
  size: batch.size,
  stopRequested: batch.stopRequested !== undefined,
  stopReason: batch.stopReason,
});

/** The batch status object; `allShards` must summarize every shard of the batch (for the counts). */
export function batchStatusView(
  component: ComponentSettings,
  batch: BatchRecord,
  allShards: readonly Pick<ShardSummary, "counts" | "started" | "ended">[],
  jobStatuses: JobStatus[],
): BatchStatus {
  const counts = countsOf(allShards);
  const status = batchStatusOf(batchFactsOf(batch, counts), component.batchStatusRules);
  const starts = allShards.map((shard) => shard.started).filter((t): t is number => t !== undefined);
  const ends = allShards.map((shard) => shard.ended).filter((t): t is number => t !== undefined);
  const ended =
    ["Succeeded", "Failed", "Stopped"].includes(status) && ends.length ? Math.max(...ends) : undefined;
  const updated = Math.max(batch.created, ...starts, ...ends);
  const view: BatchStatus = {
    name: batch.name,
    batchName: batch.name,
    batchType: batch.batchType,
    created: rfc3339(batch.created),
    started: rfc3339(starts.length ? Math.min(...starts) : undefined),
    ended: rfc3339(ended),
    updated: rfc3339(updated),
    status,
    failed: counts.Failed + counts.DeadlineExceeded,
    podStatuses: [],
    jobStatuses,
    jobCounts: Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0)),
    totalJobs: batch.size,
  };
  if (batch.batchId !== undefined) view.batchId = batch.batchId;
  if (batch.projects?.length === 1) view.project = batch.projects[0];
  if (batch.submittedBy !== undefined) view.submittedBy = batch.submittedBy;
  if (batch.stopPolicy !== undefined) view.stopPolicy = batch.stopPolicy;
  if (batch.stopReason !== undefined) view.message = batch.stopReason;
  if (batch.maxParallel !== undefined) view.maxParallel = batch.maxParallel;
  if (batch.canary !== undefined) view.canary = { ...batch.canary, passed: rfc3339(batch.canaryReleased) };
  Object.assign(view, dependencyFieldsOf(batch));
  // Kept after a restart (so the dependencies are not judged again), shown only while it is the stop.
  if (batch.dependencyUnmet !== undefined && batch.stopRequested !== undefined)
    view.message = batch.dependencyUnmet;
  else if (batch.dependsOn && batch.dependenciesMet === undefined && status === "Waiting")
    view.statusReason = dependencyWaitReason(batch.dependsOn, false);
  return view;
}
