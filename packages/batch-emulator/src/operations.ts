import type { ConsumableResources } from "./consumable-resources.js";
import type { JobControl } from "./control.js";
import type { DefinitionRegistry } from "./definitions.js";
import type { JobBook } from "./engine.js";
import { clientError } from "./errors.js";
import { describeUnit } from "./job-detail.js";
import { listJobs } from "./list-jobs.js";
import { jobArn } from "./paths.js";
import type { Stats } from "./stats.js";
import { createJob } from "./submit.js";
import { type Json, LIMITS, requireString, stringList } from "./validation.js";
import type { Walker } from "./walker.js";

export interface OperationDeps {
  book: JobBook;
  resources: ConsumableResources;
  definitions: DefinitionRegistry;
  queues: ReadonlySet<string>;
  control: JobControl;
  walker: Walker;
  stats: Stats;
  saveSoon: () => void;
}

type Operation = (input: Json, bodyBytes: number) => unknown;

/** The implemented AWS Batch operations, by their lowercased wire name. */
export function createOperations(deps: OperationDeps): Record<string, [string, Operation]> {
  const { book, definitions } = deps;
  const operations: [string, Operation][] = [
    [
      "RegisterJobDefinition",
      (input, bytes) => {
        const result = definitions.register(input, bytes);
        deps.saveSoon();
        return result;
      },
    ],
    [
      "DeregisterJobDefinition",
      (input) => {
        definitions.deregister(requireString(input, "jobDefinition"));
        deps.saveSoon();
        return {};
      },
    ],
    ["DescribeJobDefinitions", (input) => ({ jobDefinitions: definitions.describe(input) })],
    [
      "SubmitJob",
      (input, bytes) => {
        const job = createJob(input, bytes, {
          definitions,
          queues: deps.queues,
          resources: deps.resources,
          nextSeq: () => ++book.seq,
        });
        book.add(job);
        deps.saveSoon();
        deps.walker.advance({ job, index: -1 });
        return { jobArn: jobArn(book.naming, job.jobId), jobName: job.jobName, jobId: job.jobId };
      },
    ],
    [
      "DescribeJobs",
      (input) => {
        const ids = stringList(input.jobs, "jobs");
        if (!ids) throw clientError("jobs is required");
        if (ids.length > LIMITS.describeJobs)
          throw clientError(`jobs can list at most ${LIMITS.describeJobs} job IDs (got ${ids.length})`);
        const jobs = [];
        for (const id of ids) {
          const unit = book.find(id);
          if (unit) jobs.push(describeUnit(book.naming, unit.job, unit.index));
        }
        return { jobs };
      },
    ],
    ["ListJobs", (input) => listJobs(book, deps.queues, input)],
    ["CreateConsumableResource", (input) => deps.resources.create(input)],
    ["DeleteConsumableResource", (input) => deps.resources.delete(input)],
    ["DescribeConsumableResource", (input) => deps.resources.describe(input)],
    [
      "CancelJob",
      (input) => {
        deps.control.cancel(requireString(input, "jobId"), requireString(input, "reason"));
        return {};
      },
    ],
    [
      "TerminateJob",
      (input) => {
        deps.control.terminate(requireString(input, "jobId"), requireString(input, "reason"));
        return {};
      },
    ],
  ];
  return Object.fromEntries(operations.map(([name, run]) => [name.toLowerCase(), [name, run]]));
}
