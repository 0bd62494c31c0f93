import type { Command } from "commander";
import type { BatchStatus, JobStatus } from "../../api/schemas.js";
import { isBatchName } from "../../domain/names.js";
import { type Context, integerOption, timeArgument } from "../context.js";
import { InputError } from "../input.js";
import { countsText, describeBatch, describeJob, JOB_HEADER, jobRows, table } from "../render.js";

const BATCH_HEADER = ["BATCH", "BATCH ID", "STATUS", "JOBS", "COUNTS", "CREATED"];

const batchRows = (batches: BatchStatus[]) =>
  batches.map((batch) => [
    batch.name,
    batch.batchId ?? "",
    batch.status,
    `${batch.totalJobs ?? ""}`,
    countsText(batch.jobCounts ?? {}),
    batch.created ?? "",
  ]);

interface ListOptions {
  status?: string;
  project?: string;
  batchId?: string;
  batchName?: string;
  jobId?: string;
  since?: string;
  until?: string;
  order?: string;
  limit: number;
  nextToken?: string;
  all?: boolean;
}

/** status, list, logs: commands that read. */
export function inspectCommands(root: Command, context: Context) {
  root
    .command("status")
    .description("show a job, or a batch with a page of its jobs")
    .argument("<name>", "job or batch name")
    .option("--limit <n>", "jobs of a batch to show", integerOption("--limit"), 50)
    .option("--next-token <token>", "the next page of a batch's jobs")
    .action(async (name: string, options: { limit: number; nextToken?: string }, command: Command) => {
      const api = context.client(command);
      const json = context.globals(command).json;
      if (isBatchName(name)) {
        const batch = await api.batch(name, { limit: options.limit, nextToken: options.nextToken });
        if (json) context.json(batch.raw);
        else context.out(describeBatch(batch.value));
      } else {
        const job = await api.job(name);
        if (json) context.json(job.raw);
        else context.out(describeJob(job.value));
      }
    });

  root
    .command("list")
    .description("list batches or single jobs, newest first")
    .argument("[kind]", "batches (default) or jobs", "batches")
    .option("--status <list>", "comma list of statuses, e.g. Failed,Stopped")
    .option("--project <name>", "only this project")
    .option("--batch-id <id>", "only batches with this batchId (jobs: their jobs)")
    .option("--batch-name <name>", "jobs: only the jobs of this batch")
    .option("--job-id <id>", "jobs: only jobs with this jobId")
    .option("--since <time>", "created at or after: RFC 3339 or an age like 2h, 30m, 7d")
    .option("--until <time>", "created before: RFC 3339 or an age")
    .option("--order <order>", "asc or desc (default desc: newest first)")
    .option("--limit <n>", "items per page (≤ 1000)", integerOption("--limit"), 20)
    .option("--next-token <token>", "the next page (from the previous listing)")
    .option("--all", "follow the pages to the end")
    .action(async (kind: string, options: ListOptions, command: Command) => {
      if (kind !== "batches" && kind !== "jobs")
        throw new InputError(`list takes batches or jobs, not '${kind}'`);
      const api = context.client(command);
      const query = {
        status: options.status,
        project: options.project,
        batchId: options.batchId,
        batchName: options.batchName,
        jobId: options.jobId,
        createdAfter: options.since === undefined ? undefined : timeArgument(options.since),
        createdBefore: options.until === undefined ? undefined : timeArgument(options.until),
        order: options.order,
        limit: options.limit,
      };
      const raw: unknown[] = [];
      const rows: string[][] = [];
      let nextToken = options.nextToken;
      do {
        if (kind === "jobs") {
          const page = await api.list("jobs", { ...query, nextToken });
          rows.push(...jobRows(page.items as JobStatus[], false));
          raw.push(...page.raw);
          nextToken = page.nextToken;
        } else {
          const page = await api.list("batches", { ...query, nextToken });
          rows.push(...batchRows(page.items));
          raw.push(...page.raw);
          nextToken = page.nextToken;
        }
      } while (options.all && nextToken);
      if (context.globals(command).json) context.json(raw);
      else if (rows.length === 0) context.out(`no ${kind} match`);
      else context.out(table(kind === "jobs" ? JOB_HEADER : BATCH_HEADER, rows));
      if (nextToken) context.io.stderr.write(`more: --next-token ${nextToken}\n`);
    });

  root
    .command("logs")
    .description("print what a job printed; --follow keeps printing until it ends")
    .argument("<job>", "job name")
    .option("-f, --follow", "keep printing new lines until the job has ended")
    .option("--tail <n>", "only the last n lines", integerOption("--tail"))
    .option("--attempt <n>", "this attempt (podIndex) only; default the latest", integerOption("--attempt"))
    .option("--interval <ms>", "with --follow: poll interval", integerOption("--interval"), 1000)
    .action(
      async (
        job: string,
        options: { follow?: boolean; tail?: number; attempt?: number; interval: number },
        command: Command,
      ) => {
        const api = context.client(command);
        const { stdout, stderr } = context.io;
        if (!options.follow) {
          stdout.write(await api.logs(job, { tail: options.tail, attempt: options.attempt }));
          return;
        }
        let chunk = await api.follow(job, { tail: options.tail, attempt: options.attempt });
        let attempt = chunk.attempt;
        for (;;) {
          if (chunk.attempt !== null && attempt !== null && chunk.attempt !== attempt) {
            stderr.write(`── attempt ${chunk.attempt} ──\n`);
          }
          if (chunk.attempt !== null) attempt = chunk.attempt;
          for (const line of chunk.lines) stdout.write(`${line}\n`);
          if (chunk.final) return;
          await new Promise((resolve) => setTimeout(resolve, options.interval));
          chunk = await api.follow(job, { cursor: chunk.cursor, attempt: options.attempt });
        }
      },
    );
}
