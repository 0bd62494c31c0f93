import { groupJobName, imageFor, PARAM_RUN, submitInputFor } from "../batch/submit-input.js";
import type { GroupRecord } from "../store/job-store.js";
import { type BatchDeps, componentSettings, leaseDeadline } from "./deps.js";

/**
 * One SubmitJob of the scheduler: a spec group at its first submission (an array job or a plain job), or
 * one job of a group as a new run (a retry beyond Batch's 10 attempts, a restart, a priority change).
 */
export interface Submission {
  component: string;
  /** What is submitted: the group, or one job of it (`offset` its ordinal, `size` 1, `run` the new run). */
  group: GroupRecord;
  payloadKey: string | undefined;
  /** The batch's maxParallel consumable resource, asked for only when a SubmitJob is made. */
  consumableResource: () => Promise<string | undefined>;
  /** AWS Batch attempts of the run (retryStrategy.attempts); default: the spec's. */
  attempts?: number;
  /** The submitter owns the submission until `until`; no SubmitJob attempt starts after its deadline. */
  lease: { until: number; ms: number };
  /**
   * A resumed submission (its earlier submitter may have died after SubmitJob): Batch is asked first for
   * a job of this name and run, and that job is adopted instead of submitting a second one.
   */
  checkFirst: boolean;
}

export interface Submitted {
  batchJobId: string;
  /** The job definition submitted with; absent when an earlier submission was adopted. */
  jobDefinition?: string;
  adopted: boolean;
}

/**
 * The submission protocol, the same for every run the scheduler starts: find the queue, adopt an earlier
 * SubmitJob of this name and run when resuming, else build the definition and input and submit within
 * the lease. The callers keep their own records (the group's intent, the job's run) around it.
 */
export async function submitToBatch(deps: BatchDeps, submission: Submission): Promise<Submitted> {
  const { group } = submission;
  const component = componentSettings(deps, submission.component);
  const queue = deps.runtime.queues.find((candidate) => candidate.key === group.spec.queueKey);
  if (!queue) throw new Error(`queue ${group.spec.queueKey} is not configured`);
  if (submission.checkFirst) {
    const earlier = (await deps.batch.findByName(queue.queue, groupJobName(group.batchName, group))).find(
      (job) => job.parameters?.[PARAM_RUN] === String(group.run),
    );
    if (earlier) return { batchJobId: earlier.jobId, adopted: true };
  }
  const jobDefinition = await deps.batch.jobDefinitionFor(
    component.jobDefinition,
    imageFor(component, group.spec),
  );
  const input = submitInputFor(
    group,
    {
      component,
      queue: queue.queue,
      jobDefinition,
      bucket: deps.payloads.bucket,
      payloadKey: submission.payloadKey,
      localEntrypoint: deps.localEntrypoints?.[submission.component],
      consumableResource: await submission.consumableResource(),
    },
    submission.attempts,
  );
  const batchJobId = await deps.batch.submit(input, {
    deadline: leaseDeadline(submission.lease.until, submission.lease.ms),
  });
  return { batchJobId, jobDefinition, adopted: false };
}
