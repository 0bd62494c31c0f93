import type { BatchRecord } from "../store/job-store.js";
import type { BatchDeps } from "./deps.js";

/**
 * Beyond Radix: a batch's `maxParallel` (Slurm `--array=…%N`, Google Batch `parallelism`) is an AWS
 * Batch consumable resource (resource-aware scheduling): one REPLENISHABLE resource per batch with a
 * total quantity of N, named on every SubmitJob of the batch (`consumableResourcePropertiesOverride`,
 * quantity 1). Batch starts a job only while the resource has room, takes 1 when the job starts and
 * gives it back when it ends, so at most N of the batch's jobs run at once; the rest wait RUNNABLE
 * (Waiting here, with a statusReason saying why). The resource is created before the batch's first
 * submission and deleted when the batch ends (batch-status.ts, and the reconciler when it settles one).
 *
 * AWS's limits: consumable resource names are unique per account and an account holds at most 50,000
 * (batch/latest/userguide/resource-aware-scheduling-how-to-create.html). Past that, CreateConsumableResource
 * is refused (ClientException), so the batch's groups are refused too and its jobs end Failed with AWS's
 * message (submit.ts), never run without their cap.
 */
export const PARALLEL_RESOURCE_PREFIX = "jobsched-";

/** The batch's consumable resource: the prefix (for IAM, cdk/) and the batch's unique name. */
export const parallelResourceOf = (batchName: string) => `${PARALLEL_RESOURCE_PREFIX}${batchName}`;

/** Creates the batch's resource if it has a maxParallel (idempotent); its name, to put on submissions. */
export async function ensureParallelResource(
  deps: BatchDeps,
  batch: BatchRecord,
): Promise<string | undefined> {
  if (batch.maxParallel === undefined) return undefined;
  const name = parallelResourceOf(batch.name);
  await deps.batch.createConsumableResource(name, batch.maxParallel);
  return name;
}

/** Deletes the batch's resource once it ended; a failure is logged and left for the reconciler. */
export async function releaseParallelResource(deps: BatchDeps, batch: BatchRecord) {
  if (batch.maxParallel === undefined) return;
  try {
    await deps.batch.deleteConsumableResource(parallelResourceOf(batch.name));
  } catch (error) {
    deps.logger.warn("maxParallel resource not deleted; the reconciler tries again", {
      batchName: batch.name,
      error,
    });
  }
}

export const parallelWaitReason = (maxParallel: number) =>
  `waiting for a slot: at most ${maxParallel} of the batch's jobs run at once (maxParallel)`;

/** Why a waiting job of capped projects has not started: their projects[].maxRunningJobs. */
export const projectCapWaitReason = (caps: Record<string, number>) =>
  `waiting for a slot: ${Object.entries(caps)
    .map(([project, cap]) => `project ${project} runs at most ${cap} jobs at once`)
    .join("; ")} (projects[].maxRunningJobs)`;
