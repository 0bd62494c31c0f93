import { type Decision, decide } from "../domain/job-machine.js";
import { finishWithoutBatch, type JobEntry } from "../domain/job-state.js";
import { componentOfBatch } from "../domain/names.js";
import { nextRunAttempts } from "../domain/retry.js";
import { isFinal } from "../domain/status.js";
import { type GroupRecord, shardOf } from "../store/job-store.js";
import { type BatchDeps, DEFAULT_SUBMIT_LEASE_MS, type ReadDeps } from "./deps.js";
import { writeEntryWithRetry } from "./entries.js";
import { ensureParallelResource } from "./max-parallel.js";
import { submitToBatch } from "./submission.js";

/** One new run of a job of a batch. */
export interface RunRequest {
  batchName: string;
  ordinal: number;
  run: number;
  /** AWS Batch attempts of the run (retryStrategy.attempts). */
  attempts: number;
  group: GroupRecord;
  /** When this submission's lease began (the entry's resubmitRequested). */
  leaseFrom: number;
  /** A resumed submission: Batch is asked first for a job of that name and run. */
  checkFirst?: boolean;
  /** A priority asked after creation (PATCH), overriding the group's. */
  priority?: number;
}

/**
 * Submits one job of a batch again, as run `run`: a plain AWS Batch job for that ordinal (its payload is
 * found by the same ordinal). With `checkFirst` (a resumed resubmission) Batch is asked for a job of that
 * name and run first, so a resubmission never starts twice.
 *
 * A stop wins (lib/domain/job-machine.ts): a run is not submitted once a stop of the job or its batch is
 * recorded; once SubmitJob answers, the run's Batch job id is recorded on the job (a stop from then on
 * terminates it directly), and a run whose SubmitJob raced a stop is terminated at once.
 */
export async function submitRun(deps: BatchDeps, request: RunRequest): Promise<string | undefined> {
  const { batchName, ordinal, run, attempts, group, leaseFrom, checkFirst, priority } = request;
  const componentName = componentOfBatch(batchName);
  const batch = await deps.store.getBatch(batchName);
  if (!componentName || !batch) return undefined;
  const entry = await entryOf(deps, batchName, ordinal);
  if (!entry || entry.run !== run || isFinal(entry.status)) return undefined;
  if (entry.stopRequested !== undefined || batch.stopRequested !== undefined) {
    await stopUnsubmittedRun(deps, batchName, ordinal, run);
    return undefined;
  }
  const spec = priority === undefined ? group.spec : { ...group.spec, priority };
  const single: GroupRecord = { ...group, spec, offset: ordinal, size: 1, run, state: "submitting" };
  const leaseMs = deps.submitLeaseMs ?? DEFAULT_SUBMIT_LEASE_MS;
  const submitted = await submitToBatch(deps, {
    component: componentName,
    group: single,
    payloadKey: batch.payloadKey,
    // A restart after the batch ended finds its resource deleted: created again (idempotent).
    consumableResource: () => ensureParallelResource(deps, batch),
    attempts,
    lease: { until: leaseFrom + leaseMs, ms: leaseMs },
    checkFirst: checkFirst === true,
  });
  const { batchJobId } = submitted;
  if (!submitted.adopted)
    deps.logger.info("job resubmitted", { batchName, ordinal, run, attempts, batchJobId });
  await recordSubmitted(deps, batchName, ordinal, run, batchJobId);
  return batchJobId;
}

const entryOf = async (deps: ReadDeps, batchName: string, ordinal: number) => {
  const { shard, slot } = shardOf(ordinal);
  return (await deps.store.getEntries(batchName, shard, [slot])).get(slot);
};

/** A run decided but not submitted when a stop came: the job ends Stopped (nothing is in Batch for it). */
async function stopUnsubmittedRun(deps: BatchDeps, batchName: string, ordinal: number, run: number) {
  await writeEntryWithRetry(deps, batchName, ordinal, (current) =>
    current.run === run && !isFinal(current.status)
      ? finishWithoutBatch(
          {
            ...current,
            stopRequested: current.stopRequested ?? deps.now(),
            stopRun: current.stopRun ?? run - 1,
          },
          "Stopped",
          deps.now(),
          "Job was stopped",
        )
      : undefined,
  );
}

/**
 * After SubmitJob answered: the run's Batch job id goes onto the job at once (one conditional write), so
 * that from now on a stop (or a deadline, or a priority change) reaches it directly rather than through
 * its first event, which comes later (EventBridge to SQS to Lambda takes seconds in AWS, time enough for
 * a free compute environment to start the job) or never (then the reconciler asks Batch by this id).
 *
 * The same conditional write sees what happened while SubmitJob was in flight: a stop of the job or of
 * its batch, a stop or deadline that found no Batch job to end and ended the job at once, or a later run
 * (a restart after such a stop). Then the run just submitted is terminated now, before it can start (in
 * AWS, SubmitJob to a container start takes seconds), and a job still open is marked stopped, so that
 * its events end it Stopped.
 */
async function recordSubmitted(
  deps: BatchDeps,
  batchName: string,
  ordinal: number,
  run: number,
  batchJobId: string,
) {
  const batch = await deps.store.getBatch(batchName);
  const context = { batchStopRequested: batch?.stopRequested !== undefined };
  let decision: Decision | undefined;
  await writeEntryWithRetry(deps, batchName, ordinal, (current) => {
    decision = decide(current, { kind: "submitted", run, batchJobId }, context, deps.now());
    return decision.next;
  });
  const ended = decision?.effects.find((effect) => effect.kind === "terminate");
  if (!ended) return;
  await deps.batch.terminate(ended.batchJobId, ended.reason);
  deps.logger.info("run submitted while its job was stopped or ended; terminated", {
    batchName,
    ordinal,
    run,
    batchJobId,
  });
}

/**
 * Takes over a run whose submission was requested (`resubmitRequested`) but not seen in AWS Batch: a
 * conditional write renews the lease (so two resumers never both submit), then the run is submitted,
 * asking Batch first whether the earlier submitter's call went through. False when another one has it.
 */
export async function resumeRequestedRun(
  deps: BatchDeps,
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
  await submitRun(deps, {
    batchName,
    ordinal,
    run,
    attempts,
    group,
    leaseFrom: now,
    checkFirst: true,
    priority: entry.priority,
  });
  return true;
}
