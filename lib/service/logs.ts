import { BadRequestError, NotFoundError } from "../api/errors.js";
import { attemptStreams } from "./attempt-streams.js";
import type { ServiceDeps } from "./deps.js";
import { findJob } from "./queries.js";

export interface LogQuery {
  tail?: number;
  since?: number;
  /** 0-based attempt (podIndex); default: the latest attempt that has output. */
  attempt?: number;
}

/**
 * GET /jobs/{name}/logs: the output of one attempt of a job (CloudWatch Logs in AWS, the process output
 * on the local stack). An array child's own log, not its siblings'.
 */
export async function getJobLogs(
  deps: ServiceDeps,
  componentName: string,
  name: string,
  query: LogQuery,
): Promise<string> {
  if (!deps.logs) throw new BadRequestError("logs are not available in this deployment");
  const { batch, ordinal, entry } = await findJob(deps, componentName, name);
  const withLogs = (await attemptStreams(deps, batch, ordinal, entry))
    .map((log, index) => ({ log, index }))
    .filter((attempt): attempt is { log: string; index: number } => attempt.log !== undefined);
  const chosen =
    query.attempt === undefined ? withLogs.at(-1) : withLogs.find(({ index }) => index === query.attempt);
  if (!chosen) {
    if (query.attempt !== undefined) throw new NotFoundError("attempt", `${query.attempt} of job ${name}`);
    return "";
  }
  const lines = await deps.logs.read(chosen.log, { tail: query.tail, since: query.since });
  return lines.map((line) => `${line.message}\n`).join("");
}
