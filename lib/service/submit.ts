import type { GroupRecord } from "../store/job-store.js";
import { carryOutBatchStop } from "./batch-stop.js";
import { runConcurrently } from "./concurrency.js";
import { releaseDependent } from "./dependencies.js";
import { type BatchDeps, DEFAULT_SUBMIT_LEASE_MS } from "./deps.js";
import { finishGroupJobs } from "./finish-group.js";
import { ensureParallelResource } from "./max-parallel.js";
import { submitRestartedRuns } from "./rerun.js";
import { submitToBatch } from "./submission.js";

/** Parallel SubmitJob calls; AWS Batch allows 50 a second per account, the SDK backs off on throttling. */
const SUBMIT_CONCURRENCY = 4;

const isClientError = (error: unknown) => (error as Error).name === "ClientException";

/**
 * Submits a group once (lib/service/submission.ts). The intent (`submitting`) is recorded before
 * SubmitJob; a submission found in that state was interrupted, so Batch is asked for a job of that name
 * and run before submitting again.
 */
async function submitGroup(
  deps: BatchDeps,
  componentName: string,
  group: GroupRecord,
  payloadKey: string | undefined,
  batchCreated: number,
  consumableResource: string | undefined,
) {
  const leaseMs = deps.submitLeaseMs ?? DEFAULT_SUBMIT_LEASE_MS;
  const now = deps.now();
  let current: GroupRecord;
  if (group.state === "pending") {
    current = { ...group, state: "submitting", leaseUntil: now + leaseMs };
    if (!(await deps.store.updateGroup(current, "pending"))) return; // another submitter has it
  } else {
    // `submitting`: another submitter took it. Only once its lease has ended may this one take over, and
    // it first asks Batch whether that submitter's SubmitJob went through.
    if (group.leaseUntil !== undefined && group.leaseUntil > now) return;
    current = { ...group, leaseUntil: now + leaseMs };
    if (!(await deps.store.updateGroup(current, "submitting", group.leaseUntil))) return;
  }
  try {
    const submitted = await submitToBatch(deps, {
      component: componentName,
      group: current,
      payloadKey,
      consumableResource: async () => consumableResource,
      lease: { until: current.leaseUntil!, ms: leaseMs },
      checkFirst: group.state === "submitting",
    });
    await deps.store.updateGroup(
      {
        ...current,
        state: "submitted",
        batchJobId: submitted.batchJobId,
        ...(submitted.jobDefinition ? { jobDefinition: submitted.jobDefinition } : {}),
        submittedAt: deps.now(),
      },
      "submitting",
    );
    if (submitted.adopted) return;
    deps.metrics?.count("JobsSubmitted", current.size);
    deps.metrics?.milliseconds("SubmissionLatency", deps.now() - batchCreated);
    deps.logger.info("group submitted", {
      batchName: current.batchName,
      group: current.index,
      size: current.size,
      batchJobId: submitted.batchJobId,
    });
  } catch (error) {
    if (!isClientError(error)) throw error; // throttling and 5xx were retried by the SDK; leave it for the reconciler
    // AWS Batch refused it: it can never run, so its jobs fail with the reason instead of waiting forever.
    const message = `AWS Batch refused the job: ${(error as Error).message}`;
    await deps.store.updateGroup({ ...current, state: "failed", error: message }, "submitting");
    await finishGroupJobs(deps, current, "Failed", message);
    deps.logger.error("group refused by AWS Batch", {
      batchName: current.batchName,
      group: current.index,
      error,
    });
  }
}

/** Submits the batch's groups that are not yet submitted. Safe to run again (resumes, never doubles). */
export async function submitBatch(
  deps: BatchDeps,
  componentName: string,
  batchName: string,
  knownGroups?: GroupRecord[],
): Promise<void> {
  const batch = await deps.store.getBatch(batchName);
  if (!batch) return;
  if (batch.stopRequested !== undefined) {
    // A stop was recorded (by the API, which handed it here): carried out instead of submitting.
    await carryOutBatchStop(deps, batch);
    return;
  }
  // A dependent's groups are held until its dependencies are met (lib/service/dependencies.ts).
  const known = knownGroups ?? (await deps.store.listGroups(batchName));
  const groups = (batch.dependsOn ? await releaseDependent(deps, batch, known) : known).filter(
    (group) => group.state === "pending" || group.state === "submitting",
  );
  let consumableResource: string | undefined;
  try {
    consumableResource = groups.length > 0 ? await ensureParallelResource(deps, batch) : undefined;
  } catch (error) {
    if (!isClientError(error)) throw error; // throttling and 5xx: the reconciler resumes the submission
    // AWS refused the batch's maxParallel resource (e.g. the account's 50,000 are in use): its jobs
    // cannot run within their cap, so they fail with AWS's reason instead of running without it.
    const message = `AWS Batch refused the batch's maxParallel consumable resource: ${(error as Error).message}`;
    for (const group of groups) {
      if (!(await deps.store.updateGroup({ ...group, state: "failed", error: message }, group.state)))
        continue;
      await finishGroupJobs(deps, group, "Failed", message);
    }
    return;
  }
  await runConcurrently(groups, SUBMIT_CONCURRENCY, (group) =>
    submitGroup(deps, componentName, group, batch.payloadKey, batch.created, consumableResource),
  );
  // A large restart is handed to the background submitter too (rerun.ts).
  if (batch.restarted !== undefined) await submitRestartedRuns(deps, batch);
}
