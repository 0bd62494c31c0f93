import * as z from "zod";
import { jobScheduleDescriptionSchema } from "../api/schemas.js";
import { CONCURRENCY_POLICIES } from "../config/radix-job.js";

/**
 * What one firing of a schedule carries: in AWS the EventBridge Scheduler target input (cdk/constructs/
 * job-schedules.ts, with `scheduledTime` filled in by Scheduler's `<aws.scheduler.scheduled-time>`), on
 * the local stack the local scheduler's call. Validated once, at the edge.
 */
export const scheduledRunSchema = z.object({
  component: z.string().min(1),
  schedule: z.string().min(1),
  /** The time this run is for (ISO 8601): the idempotency key of the run. */
  scheduledTime: z.iso.datetime({ offset: true }),
  concurrencyPolicy: z.enum(CONCURRENCY_POLICIES),
  payload: z.string().optional(),
  job: jobScheduleDescriptionSchema.omit({ payload: true, dependsOn: true }).optional(),
});

export type ScheduledRun = z.infer<typeof scheduledRunSchema>;
