import * as z from "zod";

/**
 * Query-string schemas of the API routes. Like bodies, query strings go through zod; each parameter's
 * error is a whole sentence that names it (the route answers 422 with it). Query values arrive as
 * strings; an empty value counts as absent where it always has.
 */

/** "" -> absent; other strings -> Number (so "abc" fails as a number); anything else as is. */
const numberOf = (value: unknown) =>
  typeof value === "string" ? (value === "" ? undefined : Number(value)) : value;

/** A whole number in [min, max]; absent or empty: undefined. */
export function queryInteger(name: string, min: number, max: number, description: string) {
  const error = `query parameter ${name} must be a whole number from ${min} to ${max}`;
  return z
    .preprocess(
      numberOf,
      z.number({ error }).int({ error }).min(min, { error }).max(max, { error }).optional(),
    )
    .meta({ description });
}

/** "true" or "false"; absent or empty: false. */
export function queryFlag(name: string, description: string) {
  const flag = z.enum(["true", "false"], { error: `query parameter ${name} must be true or false` });
  return z
    .preprocess((value) => (value === "" ? undefined : value), flag.optional())
    .meta({ description })
    .transform((value) => value === "true");
}

/** An RFC 3339 time as epoch milliseconds. */
export function queryTime(name: string, description: string) {
  return z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), {
      error: `query parameter ${name} must be an RFC 3339 time, e.g. 2024-01-31T12:00:00Z`,
    })
    .transform((text) => Date.parse(text))
    .optional()
    .meta({ description });
}

export const reuseQuerySchema = z.object({
  reuse: queryFlag(
    "reuse",
    "Beyond Radix (Arvados find_or_create): answer with an earlier Succeeded job/batch with the same effective spec and payloads instead of running it again",
  ),
});

/** The largest page of a batch's jobs one GET returns. */
export const MAX_BATCH_PAGE = 10_000;

/** GET /batches/{batchName}: a page of its jobStatuses. */
export const batchPageQuerySchema = z.object({
  limit: queryInteger("limit", 1, MAX_BATCH_PAGE, "Page the jobStatuses: at most this many"),
  nextToken: z
    .string()
    .regex(/^\d{1,9}$/, { error: "query parameter nextToken is not one this API returned" })
    .optional()
    .meta({ description: "From a previous page's nextToken" }),
});

/** GET /jobs/{jobName}/logs. */
export const logQuerySchema = z.object({
  tail: queryInteger("tail", 0, 1_000_000, "Only the last N lines"),
  since: queryTime("since", "Only lines at or after this RFC 3339 time (AWS)"),
  attempt: queryInteger("attempt", 0, 10_000, "podIndex of the attempt"),
});

/** GET /jobs/{jobName}/logs/follow. */
export const followQuerySchema = z.object({
  cursor: z.string().optional().meta({ description: "From the previous answer; absent: start" }),
  tail: queryInteger("tail", 0, 1_000_000, "Starting: only the last N lines"),
  attempt: queryInteger("attempt", 0, 10_000, "Only this attempt (podIndex)"),
});

/** POST /batches/{batchName}/restart. */
export const restartBatchQuerySchema = z.object({
  all: queryFlag("all", "Also rerun the Succeeded jobs"),
});
