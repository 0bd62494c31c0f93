import * as z from "zod";
import { STORED_STATUSES, type StoredStatus } from "../domain/status.js";

/**
 * The product's own events (DESIGN.md "Notifications") on the deployment's EventBridge bus, source
 * `job-scheduler`: a `Job Status Change` per recorded status change of a job, and a `Batch Status
 * Change` per change of a batch's aggregate status. The JSON schemas of their details are written to
 * docs/events/ by `npm run openapi`.
 *
 * Delivery is at least once (lib/service/entries.ts, lib/service/batch-status.ts): an event may come
 * twice, identical. Consumers drop repeats by the documented key: batchName + jobName + sequence for a
 * job, batchName + sequence for a batch. `sequence` grows with every change, so it also orders them.
 */
export const EVENT_SOURCE = "job-scheduler";
export const JOB_STATUS_CHANGE = "Job Status Change";
export const BATCH_STATUS_CHANGE = "Batch Status Change";

const correlationId = z
  .string()
  .optional()
  .describe(
    "the id of what caused the change: the AWS Batch event's id, or the API request's correlation id " +
      "(its x-correlation-id header, else the API Gateway request id); the same id is on the log lines",
  );

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
    sequence: z
      .number()
      .int()
      .describe(
        "grows with every recorded change of the job; batchName + jobName + sequence identifies the event",
      ),
    correlationId,
    time: z.string().describe("when the change was recorded (RFC 3339)"),
  })
  .meta({
    id: "JobStatusChange",
    description: "detail of a 'Job Status Change' event on the job scheduler's bus",
  });

const countsSchema = z
  .object(
    Object.fromEntries(STORED_STATUSES.map((status) => [status, z.number().int().nonnegative()])) as Record<
      StoredStatus,
      z.ZodNumber
    >,
  )
  .describe("the batch's jobs by status when the batch status changed");

export const batchStatusChangeSchema = z
  .object({
    component: z.string(),
    batchName: z.string(),
    batchId: z.string().optional(),
    batchType: z
      .enum(["job", "batch"])
      .describe("always `batch`: a single job's changes are its Job Status Change events"),
    previousStatus: z.string(),
    status: z.string(),
    counts: countsSchema,
    totalJobs: z.number().int(),
    started: z.string().optional().describe("when the batch's first job started (RFC 3339)"),
    ended: z.string().optional().describe("when the batch's last job ended, once it has (RFC 3339)"),
    sequence: z
      .number()
      .int()
      .describe("grows with every change of the batch's status; batchName + sequence identifies the event"),
    correlationId,
    time: z.string().describe("when the change was recorded (RFC 3339)"),
  })
  .meta({
    id: "BatchStatusChange",
    description: "detail of a 'Batch Status Change' event on the job scheduler's bus",
  });

export type JobStatusChange = z.infer<typeof jobStatusChangeSchema>;
export type BatchStatusChange = z.infer<typeof batchStatusChangeSchema>;

export type ProductEvent =
  | { detailType: typeof JOB_STATUS_CHANGE; detail: JobStatusChange }
  | { detailType: typeof BATCH_STATUS_CHANGE; detail: BatchStatusChange };

export const jobEvent = (detail: JobStatusChange): ProductEvent => ({
  detailType: JOB_STATUS_CHANGE,
  detail,
});
export const batchEvent = (detail: BatchStatusChange): ProductEvent => ({
  detailType: BATCH_STATUS_CHANGE,
  detail,
});

/** An event as EventBridge hands it to a rule target (the notifier's queue): what the notifier parses. */
export const productEventEnvelopeSchema = z.discriminatedUnion("detail-type", [
  z.looseObject({ "detail-type": z.literal(JOB_STATUS_CHANGE), detail: jobStatusChangeSchema }),
  z.looseObject({ "detail-type": z.literal(BATCH_STATUS_CHANGE), detail: batchStatusChangeSchema }),
]);

/**
 * Port: where product events go (EventBridge in AWS, a local bus on the laptop). Events are published
 * in the order given; it throws when some could not be published (the caller keeps them to retry).
 */
export interface ProductEventPublisher {
  publish(events: ProductEvent[]): Promise<void>;
}
