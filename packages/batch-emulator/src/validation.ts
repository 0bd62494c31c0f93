import { clientError } from "./errors.js";
import type { KeyValue, RetryStrategy } from "./types.js";

/** AWS Batch quotas and formats (AWS-NOTES §2; SubmitJob and RegisterJobDefinition API references). */
export const LIMITS = {
  submitJobBytes: 30 * 1024,
  jobDefinitionBytes: 24 * 1024,
  arraySize: { min: 2, max: 10_000 },
  attempts: { min: 1, max: 10 },
  evaluateOnExit: 5,
  globChars: 512,
  minAttemptSeconds: 60,
  describeJobs: 100,
  reasonChars: 1024,
  schedulingPriority: { min: 0, max: 9999 },
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
export const NAME_RULE =
  "up to 128 characters long, the first a letter or number; letters, numbers, hyphens (-) and underscores (_)";

export type Json = Record<string, unknown>;

export const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function requireString(input: Json, field: string): string {
  const value = input[field];
  if (value === undefined || value === null || value === "") throw clientError(`${field} is required`);
  if (typeof value !== "string") throw clientError(`${field} must be a string`);
  return value;
}

export function optionalString(input: Json, field: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw clientError(`${field} must be a string`);
  return value;
}

export function optionalObject(input: Json, field: string): Json | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw clientError(`${field} must be an object`);
  return value;
}

export function optionalInteger(input: Json, field: string): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value)) throw clientError(`${field} must be an integer`);
  return value;
}

/** SubmitJob's `schedulingPriorityOverride` or a job definition's `schedulingPriority`: 0..9999. */
export function schedulingPriorityOf(input: Json, field: string): number | undefined {
  const value = optionalInteger(input, field);
  const { min, max } = LIMITS.schedulingPriority;
  if (value !== undefined && (value < min || value > max))
    throw clientError(`${field} must be between ${min} and ${max} (got ${value})`);
  return value;
}

export function stringMap(value: unknown, field: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value) || Object.values(value).some((entry) => typeof entry !== "string"))
    throw clientError(`${field} must be a map of strings`);
  return value as Record<string, string>;
}

/**
 * Resource tags as AWS Batch takes them (TagResource: at most 50, keys 1..128 characters, values up to
 * 256). Keys starting with `aws:` (in any case) are reserved for AWS: CloudFormation puts
 * `aws:cloudformation:*` tags on what it creates, and a caller that sends them back is refused
 * (https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html: "You can't
 * edit or delete tag keys or values with this prefix").
 */
export function tagMap(value: unknown, field: string): Record<string, string> | undefined {
  const tags = stringMap(value, field);
  if (!tags) return undefined;
  const keys = Object.keys(tags);
  if (keys.length > 50) throw clientError(`${field} can hold at most 50 tags (got ${keys.length})`);
  for (const key of keys) {
    if (/^aws:/i.test(key))
      throw clientError(
        `${field}: tag key ${key} is invalid; keys starting with "aws:" are reserved for AWS use and cannot be set by callers`,
      );
    if (key.length < 1 || key.length > 128)
      throw clientError(`${field}: tag key ${key.slice(0, 140)} must be 1 to 128 characters`);
    if (tags[key]!.length > 256) throw clientError(`${field}: the value of tag ${key} is longer than 256`);
  }
  return tags;
}

export function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== "string"))
    throw clientError(`${field} must be a list of strings`);
  return value as string[];
}

export function validateName(value: string, what: string) {
  if (!NAME.test(value)) throw clientError(`${what} "${value.slice(0, 140)}" is invalid: ${NAME_RULE}`);
}

/** `environment` entries: `{name, value}`; names starting with AWS_BATCH are reserved by AWS. */
export function environmentList(value: unknown, field: string): KeyValue[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw clientError(`${field} must be a list of {name, value}`);
  return value.map((entry, index) => {
    if (!isObject(entry) || typeof entry.name !== "string" || !entry.name)
      throw clientError(`${field}[${index}].name is required`);
    if (entry.name.startsWith("AWS_BATCH"))
      throw clientError(
        `${field}[${index}]: environment variable ${entry.name} is invalid; names starting with AWS_BATCH are reserved for variables that AWS Batch sets`,
      );
    return {
      name: entry.name,
      value: typeof entry.value === "string" ? entry.value : String(entry.value ?? ""),
    };
  });
}

export function retryStrategyOf(value: unknown, field = "retryStrategy"): RetryStrategy | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw clientError(`${field} must be an object`);
  const attempts = optionalInteger(value, "attempts");
  if (attempts !== undefined && (attempts < LIMITS.attempts.min || attempts > LIMITS.attempts.max))
    throw clientError(
      `${field}.attempts must be between ${LIMITS.attempts.min} and ${LIMITS.attempts.max} (got ${attempts})`,
    );
  const rules = value.evaluateOnExit;
  if (rules !== undefined && rules !== null && !Array.isArray(rules))
    throw clientError(`${field}.evaluateOnExit must be a list`);
  if (Array.isArray(rules) && rules.length > LIMITS.evaluateOnExit)
    throw clientError(
      `${field}.evaluateOnExit can have at most ${LIMITS.evaluateOnExit} entries (got ${rules.length})`,
    );
  const evaluateOnExit = (Array.isArray(rules) ? rules : []).map((rule, index) => {
    const at = `${field}.evaluateOnExit[${index}]`;
    if (!isObject(rule)) throw clientError(`${at} must be an object`);
    const action = typeof rule.action === "string" ? rule.action.toUpperCase() : "";
    if (action !== "RETRY" && action !== "EXIT") throw clientError(`${at}.action must be RETRY or EXIT`);
    const globs: Record<string, string> = {};
    for (const key of ["onStatusReason", "onReason", "onExitCode"] as const) {
      const glob = optionalString(rule, key);
      if (glob === undefined) continue;
      if (glob.length > LIMITS.globChars)
        throw clientError(`${at}.${key} is longer than ${LIMITS.globChars}`);
      if (key === "onExitCode" && !/^[0-9]*\*?$/.test(glob))
        throw clientError(`${at}.onExitCode may contain only digits, optionally ending with *`);
      globs[key] = glob;
    }
    if (Object.keys(globs).length === 0)
      throw clientError(`${at} needs at least one of onStatusReason, onReason, onExitCode`);
    return { ...globs, action: rule.action as string };
  });
  return {
    ...(attempts !== undefined ? { attempts } : {}),
    ...(Array.isArray(rules) ? { evaluateOnExit } : {}),
  };
}

export function timeoutOf(value: unknown, field = "timeout"): { attemptDurationSeconds: number } | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw clientError(`${field} must be an object`);
  const seconds = optionalInteger(value, "attemptDurationSeconds");
  if (seconds === undefined) return undefined;
  if (seconds < LIMITS.minAttemptSeconds)
    throw clientError(
      `${field}.attemptDurationSeconds must be at least ${LIMITS.minAttemptSeconds} seconds (got ${seconds})`,
    );
  return { attemptDurationSeconds: seconds };
}
