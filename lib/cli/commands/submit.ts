import type { Command } from "commander";
import { type Context, collect, integerOption } from "../context.js";
import { type JobFlags, readSubmission } from "../input.js";
import { finish, watchFor } from "./watching.js";

/** Flags that describe a job (or a batch's defaults). */
function jobFlags(command: Command): Command {
  return command
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
}

interface SubmitOptions extends JobFlags {
  wait?: boolean;
  timeout?: number;
  interval: number;
  idempotencyKey?: string;
}

export function submitCommand(root: Command, context: Context) {
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
    .action(async (file: string | undefined, options: SubmitOptions, command: Command) => {
      const api = context.client(command);
      const json = context.globals(command).json;
      const submission = readSubmission(file, options, context.io.stdin);
      const created =
        submission.kind === "job"
          ? await api.createJob(submission.body, options.idempotencyKey)
          : await api.createBatch(submission.body, options.idempotencyKey);
      const name = created.value.name;
      if (!options.wait) {
        if (json) context.json(created.raw);
        else {
          const size =
            submission.kind === "batch" ? ` (${submission.body.jobScheduleDescriptions.length} jobs)` : "";
          context.out(`submitted ${submission.kind} ${name}${size}: ${created.value.status}`);
        }
        return;
      }
      if (!json) context.io.stderr.write(`submitted ${submission.kind} ${name}\n`);
      const progress = await watchFor(context, command, name, options);
      context.setExit(finish(context, progress, command));
    });
}
