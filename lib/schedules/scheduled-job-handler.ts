import type { Context } from "aws-lambda";
import { InvalidRequestError } from "../api/errors.js";
import { invocationDeps } from "../observability/correlation.js";
import type { ServiceDeps } from "../service/deps.js";
import { runScheduledJob } from "../service/scheduled-job.js";
import { scheduledRunSchema } from "./schedule-input.js";
import type { ScheduleStateStore } from "./schedule-state.js";

/**
 * The EventBridge Scheduler target: validates the schedule's input, then runs the scheduled-run use case.
 * A firing for a component this deployment does not serve (removed, or `enabled: false`) is refused.
 */
export function createScheduledJobHandler(deps: ServiceDeps, state: ScheduleStateStore) {
  return async (event: unknown, context: Context) => {
    const parsed = scheduledRunSchema.safeParse(event);
    if (!parsed.success)
      throw new InvalidRequestError(
        `schedule input is invalid: ${parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ")}`,
      );
    const run = parsed.data;
    if (!deps.runtime.components.some((component) => component.name === run.component))
      throw new InvalidRequestError(`job component ${run.component} is not served by this deployment`);
    const scoped = invocationDeps(deps, { context, correlationId: context.awsRequestId });
    return runScheduledJob(scoped, state, run);
  };
}
