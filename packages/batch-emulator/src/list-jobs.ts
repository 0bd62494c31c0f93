import type { JobSummary } from "@aws-sdk/client-batch";
import type { JobBook } from "./engine.js";
import { clientError } from "./errors.js";
import { summarizeUnit } from "./job-detail.js";
import { type JobRecord, STATUSES } from "./types.js";
import { type Json, optionalInteger, optionalString } from "./validation.js";

const FILTERS = ["JOB_NAME", "JOB_DEFINITION", "BEFORE_CREATED_AT", "AFTER_CREATED_AT", "SHARE_IDENTIFIER"];
const QUEUE_ARN = /^arn:aws[a-z-]*:batch:[^:]*:[^:]*:job-queue\/(.+)$/;

/** `value*` matches by prefix, anything else exactly; `fold` compares case-insensitively (JOB_NAME). */
const matches = (pattern: string, value: string, fold: boolean) => {
  const [p, v] = fold ? [pattern.toLowerCase(), value.toLowerCase()] : [pattern, value];
  return p.endsWith("*") ? v.startsWith(p.slice(0, -1)) : p === v;
};

function filterOf(input: Json): ((job: JobRecord) => boolean) | undefined {
  const filters = input.filters;
  if (filters === undefined || filters === null) return undefined;
  if (!Array.isArray(filters) || filters.length > 1) throw clientError("filters can hold at most one filter");
  const filter = filters[0] as { name?: unknown; values?: unknown } | undefined;
  if (!filter) return undefined;
  const name = String(filter.name ?? "");
  const values = Array.isArray(filter.values) ? filter.values.map(String) : [];
  if (!FILTERS.includes(name)) throw clientError(`filters[0].name must be one of ${FILTERS.join(", ")}`);
  if (values.length !== 1) throw clientError("filters[0].values must hold exactly one value");
  const value = values[0]!;
  switch (name) {
    case "JOB_NAME":
      return (job) => matches(value, job.jobName, true);
    case "JOB_DEFINITION":
      return (job) =>
        [job.definition.name, `${job.definition.name}:${job.definition.revision}`, job.definition.arn].some(
          (candidate) => matches(value, candidate, false),
        );
    case "BEFORE_CREATED_AT":
      return (job) => job.createdAt < Number(value);
    case "AFTER_CREATED_AT":
      return (job) => job.createdAt > Number(value);
    default:
      return (job) => job.shareIdentifier === value;
  }
}

/**
 * ListJobs: exactly one of jobQueue (top-level jobs, newest first) or arrayJobId (the children). Without
 * `jobStatus` only RUNNING jobs are listed; a filter (one at a time) ignores jobStatus, except
 * SHARE_IDENTIFIER, and does not apply to array children. Pages by `maxResults` (default 100, max 1000).
 */
export function listJobs(
  book: JobBook,
  queues: ReadonlySet<string>,
  input: Json,
): { jobSummaryList: JobSummary[]; nextToken?: string } {
  const jobQueue = optionalString(input, "jobQueue");
  const arrayJobId = optionalString(input, "arrayJobId");
  if (optionalString(input, "multiNodeJobId")) throw clientError("multi-node jobs are not supported locally");
  if (!jobQueue === !arrayJobId) throw clientError("Specify exactly one of jobQueue or arrayJobId");
  const status = optionalString(input, "jobStatus");
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status))
    throw clientError(`jobStatus must be one of ${STATUSES.join(", ")}`);
  const maxResults = optionalInteger(input, "maxResults") ?? 100;
  if (maxResults < 1 || maxResults > 1000) throw clientError("maxResults must be between 1 and 1000");
  const token = optionalString(input, "nextToken");
  const offset = token ? Number(Buffer.from(token, "base64url").toString()) : 0;
  if (!Number.isInteger(offset) || offset < 0) throw clientError("nextToken is invalid");
  const page: JobSummary[] = [];
  let seen = 0;
  let more = false;
  const take = (job: JobRecord, index: number) => {
    if (seen++ < offset) return true;
    if (page.length === maxResults) {
      more = true;
      return false;
    }
    page.push(summarizeUnit(book.naming, job, index));
    return true;
  };
  if (arrayJobId) {
    const wanted = STATUSES.indexOf((status ?? "RUNNING") as (typeof STATUSES)[number]);
    const table = book.jobs.get(arrayJobId)?.array;
    const parent = book.jobs.get(arrayJobId)!;
    for (let index = 0; table && index < table.size; index++)
      if (table.status[index] === wanted && !take(parent, index)) break;
  } else {
    const queue = QUEUE_ARN.exec(jobQueue!)?.[1] ?? jobQueue!;
    if (!queues.has(queue)) throw clientError(`Job queue ${jobQueue} does not exist`);
    const filter = filterOf(input);
    const filterName = (input.filters as { name?: string }[] | undefined)?.[0]?.name;
    const wanted = filter && filterName !== "SHARE_IDENTIFIER" ? undefined : (status ?? "RUNNING");
    for (let at = book.order.length - 1; at >= 0; at--) {
      const job = book.order[at]!;
      if (job.queue !== queue || (wanted && job.status !== wanted) || (filter && !filter(job))) continue;
      if (!take(job, -1)) break;
    }
  }
  return {
    jobSummaryList: page,
    ...(more ? { nextToken: Buffer.from(String(offset + page.length)).toString("base64url") } : {}),
  };
}
