import type { AttemptFacts } from "../domain/job-state.js";
import { MAIN_CONTAINER } from "./job-definition.js";

/** The container fields of a Batch attempt or job detail the scheduler reads. */
interface ContainerFacts {
  name?: string;
  exitCode?: number;
  reason?: string;
  logStreamName?: string;
}

/** A Batch JobDetail attempt, or the same part of a "Batch Job State Change" event. */
export interface BatchAttemptLike {
  startedAt?: number;
  stoppedAt?: number;
  statusReason?: string;
  container?: ContainerFacts;
  taskProperties?: { containers?: ContainerFacts[] }[];
}

/**
 * The user's container: multi-container (ecsProperties) jobs report each container under
 * taskProperties[0].containers, single-container jobs under `container`.
 */
export function mainContainerOf(
  holder: Pick<BatchAttemptLike, "container" | "taskProperties">,
): ContainerFacts | undefined {
  return (
    holder.taskProperties?.[0]?.containers?.find((container) => container.name === MAIN_CONTAINER) ??
    holder.container
  );
}

/** What one finished attempt says, from DescribeJobs or an event alike. */
export function attemptFacts(attempt: BatchAttemptLike): AttemptFacts {
  const main = mainContainerOf(attempt);
  return {
    startedAt: attempt.startedAt,
    stoppedAt: attempt.stoppedAt,
    exitCode: attempt.container?.exitCode ?? main?.exitCode,
    reason: attempt.container?.reason ?? main?.reason,
    statusReason: attempt.statusReason,
    logStreamName: main?.logStreamName ?? attempt.container?.logStreamName,
  };
}
