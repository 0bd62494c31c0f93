import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import {
  type BatchScheduleDescription,
  batchScheduleDescriptionSchema,
  type JobScheduleDescription,
  jobScheduleDescriptionSchema,
  radixJobComponentConfigSchema,
} from "../api/schemas.js";
import { describeZodIssues } from "../http/parse.js";

/** A request read from a file or flags, checked with the API's own schemas before it is sent. */
export type Submission =
  | { kind: "job"; body: JobScheduleDescription }
  | { kind: "batch"; body: BatchScheduleDescription };

export class InputError extends Error {}

/** Flags that describe a job (or, with a batch file, its defaults). */
export interface JobFlags {
  payload?: string;
  payloadFile?: string;
  jobId?: string;
  batchId?: string;
  project?: string;
  priority?: string;
  imageTag?: string;
  cpu?: string;
  memory?: string;
  gpu?: string;
  gpuCount?: string;
  timeLimit?: string;
  backoffLimit?: string;
  env?: string[];
  preemptible?: boolean;
  /** A batch of this many copies of the flags' job. */
  count?: string;
}

const integer = (name: string, text: string | undefined) => {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new InputError(`--${name} must be a whole number, not '${text}'`);
  return Number(text);
};

/** The component settings the flags give (everything but payload and jobId). */
function settingsOf(flags: JobFlags): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  if (flags.project) settings.project = flags.project;
  if (flags.priority !== undefined) settings.priority = integer("priority", flags.priority);
  if (flags.imageTag) settings.imageTagName = flags.imageTag;
  if (flags.cpu || flags.memory) {
    const quantities = {
      ...(flags.cpu ? { cpu: flags.cpu } : {}),
      ...(flags.memory ? { memory: flags.memory } : {}),
    };
    settings.resources = { requests: quantities, limits: quantities };
  }
  if (flags.gpu || flags.gpuCount) {
    settings.node = {
      ...(flags.gpu ? { gpu: flags.gpu } : {}),
      ...(flags.gpuCount ? { gpuCount: flags.gpuCount } : {}),
    };
  }
  if (flags.timeLimit !== undefined) settings.timeLimitSeconds = integer("time-limit", flags.timeLimit);
  if (flags.backoffLimit !== undefined) settings.backoffLimit = integer("backoff-limit", flags.backoffLimit);
  if (flags.preemptible !== undefined) settings.preemptible = flags.preemptible;
  if (flags.env?.length) {
    settings.variables = Object.fromEntries(
      flags.env.map((pair) => {
        const at = pair.indexOf("=");
        if (at <= 0) throw new InputError(`--env takes NAME=VALUE, not '${pair}'`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
    );
  }
  return settings;
}

function payloadOf(flags: JobFlags): string | undefined {
  if (flags.payload !== undefined && flags.payloadFile !== undefined) {
    throw new InputError("give --payload or --payload-file, not both");
  }
  return flags.payloadFile === undefined ? flags.payload : readFileSync(flags.payloadFile, "utf8");
}

/** Reads JSON, YAML (a superset of JSON) or JSON Lines (one job description per line). */
export function readDocument(text: string, fileName: string): unknown {
  const extension = extname(fileName).toLowerCase();
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const looksLikeLines =
    extension === ".jsonl" ||
    extension === ".ndjson" ||
    (extension !== ".yaml" &&
      extension !== ".yml" &&
      lines.length > 1 &&
      lines.every((l) => l.trim().startsWith("{")));
  try {
    if (looksLikeLines) return lines.map((line) => JSON.parse(line));
    return parseYaml(text);
  } catch (error) {
    throw new InputError(
      `${fileName} is not valid ${looksLikeLines ? "JSON Lines" : "JSON or YAML"}: ${(error as Error).message}`,
    );
  }
}

function check<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InputError(`${what} is invalid: ${describeZodIssues(result.error.issues)}`);
  // Send what was written (the schemas may normalize values for the server's own use).
  return value as z.infer<S>;
}

/**
 * A job or batch from a document and flags. A document with `jobScheduleDescriptions`, a list, or JSON
 * Lines is a batch (the flags become its defaults); another object is a job (the flags override its
 * fields). Without a document the flags describe one job, or `--count` copies of it as a batch.
 */
export function buildSubmission(document: unknown, flags: JobFlags): Submission {
  const settings = settingsOf(flags);
  const payload = payloadOf(flags);
  const count = integer("count", flags.count);
  const isBatch =
    Array.isArray(document) ||
    (document !== null && typeof document === "object" && "jobScheduleDescriptions" in document) ||
    (document === undefined && count !== undefined);
  if (!isBatch) {
    if (flags.batchId) throw new InputError("--batch-id is for batches (a batch file, or --count)");
    if (document !== undefined && (document === null || typeof document !== "object")) {
      throw new InputError("the file must hold a job description (an object), a batch, or a list of jobs");
    }
    const body = {
      ...(document as object | undefined),
      ...settings,
      ...(payload === undefined ? {} : { payload }),
      ...(flags.jobId ? { jobId: flags.jobId } : {}),
    };
    return { kind: "job", body: check(jobScheduleDescriptionSchema, body, "the job") };
  }
  if (flags.jobId) throw new InputError("--job-id names one job; in a batch give each job its jobId");
  let batch: Record<string, unknown>;
  if (document === undefined) {
    const job = { ...(payload === undefined ? {} : { payload }) };
    batch = { jobScheduleDescriptions: Array.from({ length: count ?? 1 }, () => ({ ...job })) };
  } else {
    if (payload !== undefined)
      throw new InputError("--payload is for one job; in a batch file each job has its own");
    batch = Array.isArray(document) ? { jobScheduleDescriptions: document } : { ...(document as object) };
  }
  if (Object.keys(settings).length > 0) {
    const defaults = { ...(batch.defaultRadixJobComponentConfig as object | undefined), ...settings };
    batch.defaultRadixJobComponentConfig = check(
      radixJobComponentConfigSchema,
      defaults,
      "the batch defaults",
    );
  }
  if (flags.batchId) batch.batchId = flags.batchId;
  return { kind: "batch", body: check(batchScheduleDescriptionSchema, batch, "the batch") };
}

/** Reads `file` (`-`: standard input) and builds the submission. */
export function readSubmission(file: string | undefined, flags: JobFlags, stdin: () => string): Submission {
  const document =
    file === undefined ? undefined : readDocument(file === "-" ? stdin() : readFileSync(file, "utf8"), file);
  return buildSubmission(document, flags);
}
