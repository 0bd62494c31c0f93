import { BadRequestError, NotFoundError } from "../api/errors.js";
import type { JobScheduleDescription } from "../api/schemas.js";
import { isFinal } from "../domain/status.js";
import type { ScheduledRun } from "../schedules/schedule-input.js";
import type { ScheduleStateStore } from "../schedules/schedule-state.js";
import { stopJob } from "./control.js";
import { createJobOnce } from "./create.js";
import type { BatchDeps, ReadDeps } from "./deps.js";
import { getJob } from "./queries.js";

export interface ScheduledRunResult {
  /** created: a job was created; skipped: Forbid and the previous job still runs; repeated: this scheduled time was handled already. */
  outcome: "created" | "skipped" | "repeated";
  jobName?: string;
  /** Replace: the previous job, which was stopped first. */
  stopped?: string;
}

/** Whether the job has not ended (a deleted or expired job has). */
async function isActive(deps: ReadDeps, component: string, name: string): Promise<boolean> {
  try {
    return !isFinal((await getJob(deps, component, name)).status);
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

/**
 * One firing of a component's schedule, as a Kubernetes CronJob runs one (and Radix's cron server,
 * radix-operator job-scheduler/internal/cronserver): the job is created through the same create use case
 * as POST /jobs, with the Idempotency-Key `schedule:<name>:<scheduled time>`, so a repeated delivery of one
 * scheduled time creates one job. concurrencyPolicy looks at the job the schedule last created: Forbid
 * skips this run while it is active, Replace stops it first, Allow does neither.
 *
 * @example
 * await runScheduledJob(deps, state, { component: "compute", schedule: "nightly",
 *   scheduledTime: "2026-03-01T02:00:00Z", concurrencyPolicy: "Forbid", payload: "{}" });
 */
export async function runScheduledJob(
  deps: BatchDeps,
  state: ScheduleStateStore,
  run: ScheduledRun,
): Promise<ScheduledRunResult> {
  const { component, schedule } = run;
  const scheduledAt = Date.parse(run.scheduledTime);
  const last = await state.last(component, schedule);
  if (last && last.scheduledAt >= scheduledAt) {
    deps.logger.info("scheduled run already handled", {
      component,
      schedule,
      scheduledTime: run.scheduledTime,
    });
    return { outcome: "repeated", jobName: last.jobName };
  }
  let stopped: string | undefined;
  if (run.concurrencyPolicy !== "Allow" && last?.jobName && (await isActive(deps, component, last.jobName))) {
    if (run.concurrencyPolicy === "Forbid") {
      await state.record(component, schedule, { scheduledAt, jobName: last.jobName, outcome: "skipped" });
      deps.logger.info("scheduled run skipped: the previous job is still active (Forbid)", {
        component,
        schedule,
        jobName: last.jobName,
      });
      return { outcome: "skipped", jobName: last.jobName };
    }
    try {
      await stopJob(deps, component, last.jobName);
    } catch (error) {
      // Already stopping or ended in between: nothing left to replace.
      if (!(error instanceof BadRequestError)) throw error;
    }
    stopped = last.jobName;
  }
  const request: JobScheduleDescription = {
    ...run.job,
    ...(run.payload !== undefined ? { payload: run.payload } : {}),
    jobId: run.job?.jobId ?? schedule,
  };
  const key = `schedule:${schedule}:${new Date(scheduledAt).toISOString()}`;
  const job = await createJobOnce(deps, component, request, key);
  await state.record(component, schedule, { scheduledAt, jobName: job.name, outcome: "created" });
  deps.logger.info("scheduled job created", { component, schedule, jobName: job.name, stopped });
  return { outcome: "created", jobName: job.name, ...(stopped ? { stopped } : {}) };
}
