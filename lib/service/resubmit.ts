import { groupJobName, imageFor, PARAM_RUN, submitInputFor } from "../batch/submit-input.js";
import { finishWithoutBatch, type JobEntry } from "../domain/job-state.js";
import { componentOfBatch } from "../domain/names.js";
import { nextRunAttempts } from "../domain/retry.js";
import { isFinal } from "../domain/status.js";
import { type GroupRecord, shardOf } from "../store/job-store.js";
import { componentSettings, DEFAULT_SUBMIT_LEASE_MS, leaseDeadline, type ServiceDeps } from "./deps.js";
import { writeEntryWithRetry } from "./entries.js";

/**
 * Submits one job of a batch again, as run `run`: a plain AWS Batch job for that ordinal (its payload is
 * found by the same ordinal). With `checkFirst` (a resumed resubmission) Batch is asked for a job of that
 * name and run first, so a resubmission never starts twice.
 */
export async function resubmitJob(
  deps: ServiceDeps,
  batchName: string,
  ordinal: number,
  run: number,
  attempts: number,
  group: GroupRecord,
  /** When this resubmission's lease began (the entry's resubmitRequested). */
  leaseFrom: number,
  checkFirst = false,
  /** A priority asked after creation (PATCH), overriding the group's. */
  priority?: number,
): Promise<string | undefined> {
  const componentName = componentOfBatch(batchName);
  const found = await deps.store.getBatch(batchName);
  if (!componentName || !found) return undefined;
  // Stopped (the job or its batch) since the run was decided: nothing is started.
  const { shard, slot } = shardOf(ordinal);
  const entry = (shard === 0 ? found.shard0 : await deps.store.getShard(batchName, shard))?.entries.get(slot);
  if (!entry || entry.run !== run || isFinal(entry.status)) return undefined;
  if (entry.stopRequested !== undefined || found.batch.stopRequested !== undefined) {
    await writeEntryWithRetry(deps, batchName, ordinal, (current) =>
      current.run === run && !isFinal(current.status)
        ? finishWithoutBatch(current, "Stopped", deps.now(), "Job was stopped")
        : undefined,
    );
    return undefined;
  }
  const component = componentSettings(deps, componentName);
  const queue = deps.runtime.queues.find((candidate) => candidate.key === group.spec.queueKey);
  if (!queue) throw new Error(`queue ${group.spec.queueKey} is not configured`);
  const spec = priority === undefined ? group.spec : { ...group.spec, priority };
  const single: GroupRecord = { ...group, spec, offset: ordinal, size: 1, run, state: "submitting" };
  if (checkFirst) {
    const earlier = await deps.batch.findByName(queue.queue, groupJobName(batchName, single));
    const same = earlier.find((job) => job.parameters?.[PARAM_RUN] === String(run));
    if (same) return same.jobId;
  }
  const jobDefinition = await deps.batch.jobDefinitionFor(
    component.jobDefinition,
    imageFor(component, group.spec),
  );
  const input = submitInputFor(
    single,
    {
      component,
      queue: queue.queue,
      jobDefinition,
      bucket: deps.payloads.bucket,
      payloadKey: found.batch.payloadKey,
      localEntrypoint: deps.localEntrypoints?.[componentName],
    },
    attempts,
  );
  const leaseMs = deps.submitLeaseMs ?? DEFAULT_SUBMIT_LEASE_MS;
  const batchJobId = await deps.batch.submit(input, {
    deadline: leaseDeadline(leaseFrom + leaseMs, leaseMs),
  });
  deps.logger.info("job resubmitted", { batchName, ordinal, run, attempts, batchJobId });
  return batchJobId;
}

/**
 * Takes over a run whose submission was requested (`resubmitRequested`) but not seen in AWS Batch: a
 * conditional write renews the lease (so two resumers never both submit), then the run is submitted,
 * asking Batch first whether the earlier submitter's call went through. False when another one has it.
 */
export async function resumeRequestedRun(
  deps: ServiceDeps,
  batchName: string,
  ordinal: number,
  entry: JobEntry,
  group: GroupRecord,
): Promise<boolean> {
  const { run, resubmitRequested } = entry;
  const now = deps.now();
  const outcome = await writeEntryWithRetry(deps, batchName, ordinal, (current) =>
    current.run === run && current.resubmitRequested === resubmitRequested
      ? { ...current, v: current.v + 1, resubmitRequested: now }
      : undefined,
  );
  if (outcome !== "applied") return false;
  const attempts = nextRunAttempts(entry, group.spec) ?? 1;
  await resubmitJob(deps, batchName, ordinal, run, attempts, group, now, true, entry.priority);
  return true;
}
