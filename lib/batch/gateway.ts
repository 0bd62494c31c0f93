import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import type { AttemptFacts } from "../domain/job-state.js";

/** What DescribeJobs says about one job, reduced to what the scheduler uses. */
export interface BatchJobView {
  jobId: string;
  jobName: string;
  status: string;
  statusReason?: string;
  createdAt?: number;
  startedAt?: number;
  stoppedAt?: number;
  parameters?: Record<string, string>;
  arrayIndex?: number;
  attempts: AttemptFacts[];
  /** The log stream of the main container's attempt in progress (or its last one). */
  logStreamName?: string;
}

/** Port: the AWS Batch calls the scheduler makes. */
export interface BatchGateway {
  /**
   * SubmitJob; returns the AWS Batch job id. No attempt starts after `deadline` (epoch ms): past it,
   * another submitter may take over the submission.
   */
  submit(input: SubmitJobCommandInput, options?: { deadline?: number }): Promise<string>;
  /** TerminateJob: cancels a waiting job, stops a running one; for an array parent, all children. */
  terminate(batchJobId: string, reason: string): Promise<void>;
  /** CancelJob: fails a job that has not started (SUBMITTED..RUNNABLE); a started one is left alone. */
  cancel(batchJobId: string, reason: string): Promise<void>;
  /** DescribeJobs, at most 100 ids a call (paged inside). */
  describe(batchJobIds: readonly string[]): Promise<BatchJobView[]>;
  /** Jobs with that name in the queue (any status): finds a submission that answered too late. */
  findByName(jobQueue: string, jobName: string): Promise<BatchJobView[]>;
  /** The `name:revision` of a job definition whose main container runs `image`, registering one if needed. */
  jobDefinitionFor(jobDefinitionName: string, image: string | undefined): Promise<string>;
  /** CreateConsumableResource (REPLENISHABLE); one that already exists is left as it is. */
  createConsumableResource(name: string, totalQuantity: number): Promise<void>;
  /** DeleteConsumableResource; one that does not exist (any more) is fine. */
  deleteConsumableResource(name: string): Promise<void>;
}
