import { groupJobName, imageFor, PARAM_RUN, submitInputFor } from "../batch/submit-input.js";
import { componentOfBatch } from "../domain/names.js";
import type { GroupRecord } from "../store/job-store.js";
import { componentSettings, DEFAULT_SUBMIT_LEASE_MS, leaseDeadline, type ServiceDeps } from "./deps.js";

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
): Promise<string | undefined> {
  const componentName = componentOfBatch(batchName);
  const found = await deps.store.getBatch(batchName);
  if (!componentName || !found) return undefined;
  const component = componentSettings(deps, componentName);
  const queue = deps.runtime.queues.find((candidate) => candidate.key === group.spec.queueKey);
  if (!queue) throw new Error(`queue ${group.spec.queueKey} is not configured`);
  const single: GroupRecord = { ...group, offset: ordinal, size: 1, run, state: "submitting" };
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
