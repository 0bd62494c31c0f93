import { Command, CommanderError, Option } from "commander";
import { isBatchName } from "../domain/names.js";
import { ApiClient, ApiError } from "./client.js";
import { InputError, type JobFlags, readSubmission } from "./input.js";
import { startConsoleProxy } from "./proxy.js";
import { countsText, describeBatch, describeJob, JOB_HEADER, jobRows, table } from "./render.js";
import { credentialChain, regionOfHost, sigV4Signer } from "./sign.js";
import { type Output, type Progress, watch } from "./watch.js";

/** Exit codes: scripts tell "it ran and failed" from "could not ask". */
export const EXIT = { ok: 0, unsuccessful: 1, error: 2, timeout: 3 } as const;

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  stdin: () => string;
  /** Resolves when the user interrupts (Ctrl-C): ends `console`. */
  interrupted?: Promise<void>;
}

interface GlobalOptions {
  url: string;
  token?: string;
  iam?: boolean;
  region?: string;
  profile?: string;
  apiId?: string;
  json?: boolean;
}

export const DEFAULT_URL = "http://127.0.0.1:8000";

/** `1h`, `30m`, `2d`, `45s` before now, or an RFC 3339 time, as RFC 3339. */
export function timeArgument(text: string, now = Date.now()): string {
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(relative[1]) * unit * 1000).toISOString();
  }
  if (Number.isNaN(Date.parse(text)))
    throw new InputError(`'${text}' is neither a time (RFC 3339) nor an age like 2h`);
  return new Date(text).toISOString();
}

function clientFor(options: GlobalOptions, env: Io["env"]): ApiClient {
  const url = options.url;
  if (!/^https?:\/\//.test(url)) throw new InputError(`--url must be an http(s) URL, not '${url}'`);
  let signer: ReturnType<typeof sigV4Signer> | undefined;
  if (options.iam) {
    const region =
      options.region ?? regionOfHost(new URL(url).hostname) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region)
      throw new InputError("--iam needs a region: --region, AWS_REGION, or an execute-api host name");
    signer = sigV4Signer({ region, credentials: credentialChain(options.profile) });
  }
  return new ApiClient({
    url,
    ...(options.token ? { token: options.token } : {}),
    ...(signer ? { signer } : {}),
    ...(options.apiId ? { apiId: options.apiId } : {}),
  });
}

const integerOption = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InputError(`${name} must be a whole number, not '${value}'`);
  return Number(value);
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Builds the program; `run` parses one command line with it. */
function program(io: Io, setExit: (code: number) => void): Command {
  const out = (text: string) => io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  const json = (value: unknown) => out(JSON.stringify(value, null, 2));
  const root = new Command("job-scheduler")
    .description(
      "Submit, watch and control jobs and batches of the job scheduler API (Radix job-scheduler compatible).",
    )
    .addOption(
      new Option("--url <url>", "base URL of the component's API (…/api/v1 is added when missing)")
        .env("JOB_SCHEDULER_URL")
        .default(DEFAULT_URL),
    )
    .addOption(
      new Option("--token <token>", "bearer token (local stack auth.localTokens)").env("JOB_SCHEDULER_TOKEN"),
    )
    .option("--iam", "sign requests with SigV4 (execute-api) using the standard AWS credential chain")
    .option("--region <region>", "region for --iam (default: from the URL's host, else AWS_REGION)")
    .option("--profile <profile>", "AWS profile for --iam (default: AWS_PROFILE or the chain's default)")
    .option("--api-id <id>", "API id, sent as x-apigw-api-id (when --url is a VPC endpoint's DNS name)")
    .option("--json", "print JSON (the API's objects) instead of text")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();

  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;
  const client = (command: Command) => clientFor(globals(command), io.env);

  /** Exit code of a watched run, and its summary. */
  const finish = (progress: Progress, command: Command, timedOut: boolean) => {
    if (globals(command).json) {
      const { raw: _raw, ...summary } = progress;
      json(summary);
    } else {
      out(
        `${progress.name} ${progress.status}: ${progress.ended}/${progress.total} ended (${countsText(progress.counts)})`,
      );
    }
    if (timedOut && !progress.done) return EXIT.timeout;
    return progress.succeeded ? EXIT.ok : EXIT.unsuccessful;
  };

  const jobFlags = (command: Command) =>
    command
      .option("--payload <text>", "the job's payload (mounted as the file `payload`)")
      .option("--payload-file <path>", "read the payload from a file")
      .option("--job-id <id>", "the job's jobId (your label)")
      .option("--batch-id <id>", "the batch's batchId (your label)")
      .option("--count <n>", "submit a batch of n copies of the job the flags describe")
      .option("--project <name>", "fair-share project")
      .option("--priority <n>", "scheduling priority 0..9999")
      .option("--image-tag <tag>", "imageTagName")
      .option("--cpu <quantity>", "CPU request and limit (e.g. 500m, 2)")
      .option("--memory <quantity>", "memory request and limit (e.g. 512Mi, 4Gi)")
      .option("--gpu <types>", "node.gpu: GPU types (comma list; -type excludes)")
      .option("--gpu-count <n>", "node.gpuCount")
      .option("--time-limit <seconds>", "timeLimitSeconds")
      .option("--backoff-limit <n>", "backoffLimit (retries)")
      .option("--preemptible", "run on Spot capacity")
      .option("--env <NAME=VALUE>", "an environment variable (repeatable)", collect);

  jobFlags(
    root
      .command("submit")
      .description(
        "submit a job or a batch: from a JSON, YAML or JSON Lines file ('-' reads standard input), or from flags",
      )
      .argument("[file]", "job description, batch description, list of jobs, or one job per line (.jsonl)"),
  )
    .option("--wait", "wait until every job ended; exit 0 only if all succeeded")
    .option(
      "--timeout <seconds>",
      "with --wait: give up after this long (exit 3)",
      integerOption("--timeout"),
    )
    .option("--interval <ms>", "with --wait: poll interval", integerOption("--interval"), 2000)
    .option("--idempotency-key <key>", "Idempotency-Key: a repeat returns the first answer")
    .action(async (file: string | undefined, flags: JobFlags & Record<string, unknown>, command: Command) => {
      const api = client(command);
      const submission = readSubmission(file, flags, io.stdin);
      const key = flags.idempotencyKey as string | undefined;
      const created =
        submission.kind === "job"
          ? await api.createJob(submission.body, key)
          : await api.createBatch(submission.body, key);
      const name = created.value.name;
      if (!flags.wait) {
        if (globals(command).json) json(created.raw);
        else {
          const size =
            submission.kind === "batch" ? ` (${submission.body.jobScheduleDescriptions.length} jobs)` : "";
          out(`submitted ${submission.kind} ${name}${size}: ${created.value.status}`);
        }
        return;
      }
      if (!globals(command).json) io.stderr.write(`submitted ${submission.kind} ${name}\n`);
      const timeoutMs = flags.timeout === undefined ? undefined : Number(flags.timeout) * 1000;
      const progress = await watch(api, name, {
        intervalMs: Number(flags.interval),
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        out: io.stderr,
        quiet: globals(command).json,
      });
      setExit(finish(progress, command, true));
    });

  root
    .command("status")
    .description("show a job, or a batch with a page of its jobs")
    .argument("<name>", "job or batch name")
    .option("--limit <n>", "jobs of a batch to show", integerOption("--limit"), 50)
    .option("--next-token <token>", "the next page of a batch's jobs")
    .action(async (name: string, options: { limit: number; nextToken?: string }, command: Command) => {
      const api = client(command);
      if (isBatchName(name)) {
        const batch = await api.batch(name, { limit: options.limit, nextToken: options.nextToken });
        if (globals(command).json) json(batch.raw);
        else out(describeBatch(batch.value));
      } else {
        const job = await api.job(name);
        if (globals(command).json) json(job.raw);
        else out(describeJob(job.value));
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
    .action(
      async (
        kind: string,
        options: Record<string, string | number | boolean | undefined>,
        command: Command,
      ) => {
        if (kind !== "batches" && kind !== "jobs")
          throw new InputError(`list takes batches or jobs, not '${kind}'`);
        const api = client(command);
        const query = {
          status: options.status as string | undefined,
          project: options.project as string | undefined,
          batchId: options.batchId as string | undefined,
          batchName: options.batchName as string | undefined,
          jobId: options.jobId as string | undefined,
          createdAfter: options.since === undefined ? undefined : timeArgument(String(options.since)),
          createdBefore: options.until === undefined ? undefined : timeArgument(String(options.until)),
          order: options.order as string | undefined,
          limit: options.limit as number,
        };
        const raw: unknown[] = [];
        const rows: string[][] = [];
        let nextToken = options.nextToken as string | undefined;
        do {
          const page =
            kind === "jobs"
              ? await api.list("jobs", { ...query, nextToken })
              : await api.list("batches", { ...query, nextToken });
          raw.push(...page.raw);
          if (kind === "jobs") rows.push(...jobRows(page.items as never, false));
          else
            rows.push(
              ...(page.items as import("../api/schemas.js").BatchStatus[]).map((batch) => [
                batch.name,
                batch.batchId ?? "",
                batch.status,
                `${batch.totalJobs ?? ""}`,
                countsText(batch.jobCounts ?? {}),
                batch.created ?? "",
              ]),
            );
          nextToken = page.nextToken;
        } while (options.all && nextToken);
        if (globals(command).json) json(raw);
        else if (rows.length === 0) out(`no ${kind} match`);
        else
          out(
            table(
              kind === "jobs" ? JOB_HEADER : ["BATCH", "BATCH ID", "STATUS", "JOBS", "COUNTS", "CREATED"],
              rows,
            ),
          );
        if (nextToken) io.stderr.write(`more: --next-token ${nextToken}\n`);
      },
    );

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
        const api = client(command);
        if (!options.follow) {
          io.stdout.write(await api.logs(job, { tail: options.tail, attempt: options.attempt }));
          return;
        }
        let chunk = await api.follow(job, { tail: options.tail, attempt: options.attempt });
        let attempt = chunk.attempt;
        for (;;) {
          if (chunk.attempt !== null && attempt !== null && chunk.attempt !== attempt) {
            io.stderr.write(`── attempt ${chunk.attempt} ──\n`);
          }
          if (chunk.attempt !== null) attempt = chunk.attempt;
          for (const line of chunk.lines) io.stdout.write(`${line}\n`);
          if (chunk.final) return;
          await new Promise((resolve) => setTimeout(resolve, options.interval));
          chunk = await api.follow(job, { cursor: chunk.cursor, attempt: options.attempt });
        }
      },
    );

  root
    .command("stop")
    .description("stop a job or a batch (or every single job or batch with --all)")
    .argument("[name]", "job or batch name")
    .addOption(
      new Option("--all <kind>", "stop every job or every batch that has not ended").choices([
        "jobs",
        "batches",
      ]),
    )
    .action(async (name: string | undefined, options: { all?: "jobs" | "batches" }, command: Command) => {
      const api = client(command);
      if (!name && !options.all) throw new InputError("stop needs a name, or --all jobs|batches");
      const answer = options.all
        ? await api.request("POST", `/${options.all}/stop`)
        : await api.act(isBatchName(name!) ? "batches" : "jobs", name!, "stop");
      const body = "raw" in answer ? answer.raw : answer.body;
      if (globals(command).json) json(body);
      else out((body as { message?: string }).message ?? "stopped");
    });

  root
    .command("restart")
    .description("run an ended job again, or a batch's failed, stopped and past-deadline jobs")
    .argument("<name>", "job or batch name")
    .option("--all", "batch: rerun every ended job, the Succeeded ones too")
    .action(async (name: string, options: { all?: boolean }, command: Command) => {
      const api = client(command);
      const kind = isBatchName(name) ? "batches" : "jobs";
      const answer = await api.act(kind, name, "restart", options.all ? { all: "true" } : {});
      if (globals(command).json) json(answer.raw);
      else out(`restarted ${name}: ${(answer.value as { status: string }).status}`);
    });

  root
    .command("watch")
    .description("live progress of a batch or job: counts by status, rate and ETA; exit 0 if all succeeded")
    .argument("<name>", "batch or job name")
    .option("--interval <ms>", "poll interval", integerOption("--interval"), 2000)
    .option("--timeout <seconds>", "give up after this long (exit 3)", integerOption("--timeout"))
    .action(async (name: string, options: { interval: number; timeout?: number }, command: Command) => {
      if (!globals(command).json) io.stderr.write(`watching ${name}\n`);
      const progress = await watch(client(command), name, {
        intervalMs: options.interval,
        ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout * 1000 }),
        out: io.stderr,
        quiet: globals(command).json,
      });
      setExit(finish(progress, command, true));
    });

  root
    .command("console")
    .description(
      "serve the web console on 127.0.0.1 through a proxy that signs (--iam) or adds the token to every request",
    )
    .option("--port <n>", "local port", integerOption("--port"), 8001)
    .action(async (options: { port: number }, command: Command) => {
      const { server, url } = await startConsoleProxy(client(command), options.port);
      out(`console: ${url}  (Ctrl-C stops)`);
      await (io.interrupted ?? new Promise(() => {}));
      await new Promise((resolve) => server.close(resolve));
    });

  return root;
}

/** Runs one command line (without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  const root = program(io, (code) => {
    exitCode = code;
  });
  try {
    await root.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === "commander.helpDisplayed" ||
        error.code === "commander.version" ||
        error.exitCode === 0
        ? EXIT.ok
        : EXIT.error;
    }
    if (error instanceof ApiError || error instanceof InputError) {
      io.stderr.write(`job-scheduler: ${error.message}\n`);
      return EXIT.error;
    }
    io.stderr.write(`job-scheduler: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT.error;
  }
}
