import * as z from "zod";

/**
 * The product's own events (DESIGN.md "Notifications"): one per job status change, on the deployment's
 * EventBridge bus (source `job-scheduler`, detail-type `Job Status Change`). The JSON schema of the
 * detail is written to docs/events/job-status-change.schema.json by `npm run openapi`.
 */
export const EVENT_SOURCE = "job-scheduler";
export const JOB_STATUS_CHANGE = "Job Status Change";

export const jobStatusChangeSchema = z
  .object({
    component: z.string(),
    batchName: z.string(),
    jobName: z.string(),
    jobId: z.string().optional(),
    previousStatus: z.string(),
    status: z.string(),
    exitCode: z.number().int().optional(),
    message: z.string().optional(),
    batchJobStatus: z.string().optional(),
    statusReason: z.string().optional(),
    attempts: z.number().int(),
    time: z.string(),
  })
  .meta({
    id: "JobStatusChange",
    description: "detail of a 'Job Status Change' event on the job scheduler's bus",
  });

export type JobStatusChange = z.infer<typeof jobStatusChangeSchema>;

/** Port: where product events go (EventBridge in AWS, a local bus on the laptop). */
export interface ProductEventPublisher {
  publish(changes: JobStatusChange[]): Promise<void>;
}
