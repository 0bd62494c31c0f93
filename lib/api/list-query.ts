import * as z from "zod";
import { JOB_STATUSES } from "../domain/status.js";

/** The most jobs or batches one listing page returns. */
export const MAX_LIST_LIMIT = 1000;

const time = (name: string) =>
  z
    .string()
    .refine((text) => !Number.isNaN(Date.parse(text)), {
      error: `${name} must be an RFC 3339 time, e.g. 2024-01-31T12:00:00Z`,
    })
    .transform((text) => Date.parse(text));

const statusList = z
  .string()
  .transform((text) =>
    text
      .split(",")
      .map((part) => part.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(JOB_STATUSES)).min(1))
  .meta({ description: `Comma list of statuses: ${JOB_STATUSES.join(", ")}` });

/**
 * Query parameters of GET /jobs and GET /batches (Arvados and Run:AI style filters, ordering and
 * paging). Without any of them the answer is Radix's: every item, newest first.
 */
export const listQuerySchema = z
  .object({
    status: statusList.optional(),
    jobId: z.string().max(256).optional().meta({ description: "Only jobs with this jobId" }),
    batchId: z
      .string()
      .max(256)
      .optional()
      .meta({ description: "Only batches with this batchId (GET /jobs: the jobs of those batches)" }),
    batchName: z.string().max(256).optional().meta({ description: "GET /jobs: the jobs of this batch" }),
    project: z.string().max(63).optional().meta({ description: "Only what was submitted to this project" }),
    createdAfter: time("createdAfter").optional().meta({ description: "Created at or after this time" }),
    createdBefore: time("createdBefore").optional().meta({ description: "Created before this time" }),
    order: z
      .enum(["asc", "desc"])
      .optional()
      .meta({ description: "By creation time; default desc (newest first)" }),
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_LIST_LIMIT)
      .optional()
      .meta({ description: `At most this many items (≤ ${MAX_LIST_LIMIT}); more are behind X-Next-Token` }),
    nextToken: z
      .string()
      .max(2048)
      .optional()
      .meta({ description: "The X-Next-Token header of the previous page" }),
  })
  .meta({ id: "ListQuery" });

export type ListQuery = z.infer<typeof listQuerySchema>;

/** Header that carries the token of the next page (the body stays Radix's plain array). */
export const NEXT_TOKEN_HEADER = "X-Next-Token";
