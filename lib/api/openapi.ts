import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import * as z from "zod";
import { listQuerySchema, NEXT_TOKEN_HEADER } from "./list-query.js";
import { logChunkSchema } from "./log-chunk.js";
import {
  batchScheduleDescriptionSchema,
  batchStatusSchema,
  jobScheduleDescriptionSchema,
  jobStatusSchema,
  priorityChangeSchema,
  statusSchema,
} from "./schemas.js";

/**
 * The OpenAPI 3.1 document, generated from the zod schemas that validate requests (no hand-written copy).
 * Paths, operation ids and model names follow Radix's published job-scheduler swagger.json, so clients
 * generated from either work against this API.
 */
const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      {
        description:
          {
            400: "Bad request",
            401: "No known bearer token (local stack with tokens configured)",
            403: "Forbidden",
            404: "Not found",
            409: "Conflict",
            422: "Invalid data in request",
            500: "Internal server error",
          }[code] ?? "Error",
        content: { "application/json": { schema: statusSchema } },
      },
    ]),
  );

const ok = (description: string, schema: z.ZodType) => ({
  200: { description, content: { "application/json": { schema } } },
});

/** Every route may answer these when authentication or project access rules are configured. */
const AUTH_ERRORS = [401, 403];

const reuseQuery = z.object({
  reuse: z.enum(["true", "false"]).optional().meta({
    description:
      "Beyond Radix (Arvados find_or_create): answer with an earlier Succeeded job/batch with the same effective spec and payloads instead of running it again",
  }),
});

const listed = (description: string, schema: z.ZodType) => ({
  200: {
    description,
    headers: {
      [NEXT_TOKEN_HEADER]: {
        description: "Present when more items match: pass it back as nextToken",
        schema: { type: "string" as const },
      },
    },
    content: { "application/json": { schema } },
  },
});

const jobName = z.object({ jobName: z.string().meta({ description: "Name of the job" }) });
const batchName = z.object({ batchName: z.string().meta({ description: "Name of the batch" }) });

export function buildOpenApiDocument(serverUrl = "/") {
  const registry = new OpenAPIRegistry();
  const json = (schema: z.ZodType) => ({ content: { "application/json": { schema } } });

  registry.registerPath({
    method: "post",
    path: "/jobs",
    operationId: "createJob",
    tags: ["Job"],
    summary: "Create job",
    request: { query: reuseQuery, body: { ...json(jobScheduleDescriptionSchema), required: true } },
    responses: {
      ...ok("Successful create job", jobStatusSchema),
      ...errors(400, ...AUTH_ERRORS, 404, 409, 422, 500),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/jobs",
    operationId: "getJobs",
    tags: ["Job"],
    summary: "Gets jobs",
    description:
      "Without parameters: every single job, newest first (Radix). With filters (beyond Radix): single jobs, or with batchName/batchId the jobs of those batches; paged with limit and the X-Next-Token header.",
    request: { query: listQuerySchema },
    responses: {
      ...listed("Successful get jobs", z.array(jobStatusSchema)),
      ...errors(...AUTH_ERRORS, 404, 422, 500),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/jobs/stop",
    operationId: "stopAllJobs",
    tags: ["Job"],
    summary: "Stop all jobs",
    responses: { ...ok("Successful stop jobs", statusSchema), ...errors(400, 404, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/jobs/{jobName}",
    operationId: "getJob",
    tags: ["Job"],
    summary: "Gets job",
    request: { params: jobName },
    responses: { ...ok("Successful get job", jobStatusSchema), ...errors(404, 500) },
  });
  registry.registerPath({
    method: "delete",
    path: "/jobs/{jobName}",
    operationId: "deleteJob",
    tags: ["Job"],
    summary: "Delete job",
    request: { params: jobName },
    responses: { ...ok("Successful delete job", statusSchema), ...errors(400, 404, 500) },
  });
  registry.registerPath({
    method: "post",
    path: "/jobs/{jobName}/stop",
    operationId: "stopJob",
    tags: ["Job"],
    summary: "Stop job",
    request: { params: jobName },
    responses: { ...ok("Successful stop job", statusSchema), ...errors(400, 404, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/jobs/{jobName}/logs",
    operationId: "getJobLogs",
    tags: ["Job"],
    summary: "Output of the job's latest (or given) attempt",
    request: {
      params: jobName,
      query: z.object({
        tail: z.number().int().min(0).optional().meta({ description: "Only the last N lines" }),
        since: z.string().optional().meta({ description: "Only lines at or after this RFC 3339 time (AWS)" }),
        attempt: z.number().int().min(0).optional().meta({ description: "podIndex of the attempt" }),
      }),
    },
    responses: {
      200: { description: "The log text", content: { "text/plain": { schema: z.string() } } },
      ...errors(404, 422, 500),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/batches",
    operationId: "createBatch",
    tags: ["Batch"],
    summary: "Create batch",
    request: { query: reuseQuery, body: { ...json(batchScheduleDescriptionSchema), required: true } },
    responses: {
      ...ok("Successful create batch", batchStatusSchema),
      ...errors(400, ...AUTH_ERRORS, 404, 409, 422, 500),
    },
  });
  registry.registerPath({
    method: "get",
    path: "/batches",
    operationId: "getBatches",
    tags: ["Batch"],
    summary: "Gets batches",
    description:
      "Without parameters: every batch without its jobs, newest first (Radix). With filters (beyond Radix): paged with limit and the X-Next-Token header.",
    request: { query: listQuerySchema.omit({ batchName: true, jobId: true }) },
    responses: {
      ...listed("Successful get batches", z.array(batchStatusSchema)),
      ...errors(...AUTH_ERRORS, 422, 500),
    },
  });
  registry.registerPath({
    method: "post",
    path: "/batches/stop",
    operationId: "stopAllBatches",
    tags: ["Batch"],
    summary: "Stop all batches",
    responses: { ...ok("Successful stop batches", statusSchema), ...errors(400, 404, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/batches/{batchName}",
    operationId: "getBatch",
    tags: ["Batch"],
    summary: "Gets batch",
    request: {
      params: batchName,
      query: z.object({
        limit: z
          .number()
          .int()
          .min(1)
          .max(10000)
          .optional()
          .meta({ description: "Page the jobStatuses: at most this many" }),
        nextToken: z.string().optional().meta({ description: "From a previous page's nextToken" }),
      }),
    },
    responses: { ...ok("Successful get batch", batchStatusSchema), ...errors(404, 422, 500) },
  });
  registry.registerPath({
    method: "delete",
    path: "/batches/{batchName}",
    operationId: "deleteBatch",
    tags: ["Batch"],
    summary: "Delete batch",
    request: { params: batchName },
    responses: { ...ok("Successful delete batch", statusSchema), ...errors(404, 500) },
  });
  registry.registerPath({
    method: "post",
    path: "/batches/{batchName}/stop",
    operationId: "stopBatch",
    tags: ["Batch"],
    summary: "Stop batch",
    request: { params: batchName },
    responses: { ...ok("Successful stop batch", statusSchema), ...errors(400, 404, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/batches/{batchName}/jobs/{jobName}",
    operationId: "getBatchJob",
    tags: ["Batch"],
    summary: "Gets batch job",
    request: { params: batchName.extend(jobName.shape) },
    responses: { ...ok("Successful get job", jobStatusSchema), ...errors(404, 500) },
  });
  registry.registerPath({
    method: "post",
    path: "/batches/{batchName}/jobs/{jobName}/stop",
    operationId: "stopBatchJob",
    tags: ["Batch"],
    summary: "Stop batch job",
    request: { params: batchName.extend(jobName.shape) },
    responses: { ...ok("Successful stop batch job", statusSchema), ...errors(400, 404, 500) },
  });

  registry.registerPath({
    method: "patch",
    path: "/jobs/{jobName}",
    operationId: "updateJob",
    tags: ["Job"],
    summary: "Change the priority of a waiting job (beyond Radix)",
    description:
      "AWS Batch cannot change a waiting container job's priority in place: the job is cancelled and submitted again with the new priority, under the same name. A job that already started keeps running.",
    request: { params: jobName, body: { ...json(priorityChangeSchema), required: true } },
    responses: { ...ok("The job", jobStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 422, 500) },
  });
  registry.registerPath({
    method: "post",
    path: "/jobs/{jobName}/restart",
    operationId: "restartJob",
    tags: ["Job"],
    summary: "Run an ended job again as a new run of the same name (beyond Radix)",
    request: { params: jobName },
    responses: { ...ok("The restarted job", jobStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 500) },
  });
  registry.registerPath({
    method: "patch",
    path: "/batches/{batchName}",
    operationId: "updateBatch",
    tags: ["Batch"],
    summary: "Change the priority of the batch's waiting jobs (beyond Radix)",
    request: { params: batchName, body: { ...json(priorityChangeSchema), required: true } },
    responses: { ...ok("The batch", batchStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 422, 500) },
  });
  registry.registerPath({
    method: "post",
    path: "/batches/{batchName}/restart",
    operationId: "restartBatch",
    tags: ["Batch"],
    summary: "Run the batch's failed, stopped and past-deadline jobs again (beyond Radix)",
    request: {
      params: batchName,
      query: z.object({
        all: z.enum(["true", "false"]).optional().meta({ description: "Also rerun the Succeeded jobs" }),
      }),
    },
    responses: { ...ok("The batch", batchStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 422, 500) },
  });
  registry.registerPath({
    method: "post",
    path: "/batches/{batchName}/jobs/{jobName}/restart",
    operationId: "restartBatchJob",
    tags: ["Batch"],
    summary: "Run one ended job of a batch again (beyond Radix)",
    request: { params: batchName.extend(jobName.shape) },
    responses: { ...ok("The restarted job", jobStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 500) },
  });

  registry.registerPath({
    method: "get",
    path: "/jobs/{jobName}/logs/follow",
    operationId: "followJobLogs",
    tags: ["Job"],
    summary: "Follow the job's output: new lines since a cursor (beyond Radix)",
    description:
      "Poll with the cursor of the previous answer to get only newer lines; without `attempt` the follow moves on to later attempts. Stop when `final` is true.",
    request: {
      params: jobName,
      query: z.object({
        cursor: z.string().optional().meta({ description: "From the previous answer; absent: start" }),
        tail: z.number().int().min(0).optional().meta({ description: "Starting: only the last N lines" }),
        attempt: z.number().int().min(0).optional().meta({ description: "Only this attempt (podIndex)" }),
      }),
    },
    responses: { ...ok("New lines and the next cursor", logChunkSchema), ...errors(400, 404, 422, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/console",
    operationId: "getConsole",
    tags: ["Console"],
    summary: "The web console for people (HTML; beyond Radix)",
    responses: {
      200: { description: "The console page", content: { "text/html": { schema: z.string() } } },
    },
  });

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Radix-compatible job scheduler on AWS Batch",
      version: "1.0.0",
      description: "The Radix job-scheduler API (jobs, batches) with additions; see README.md.",
    },
    servers: [{ url: `${serverUrl.replace(/\/$/, "")}/api/v1` }],
  });
  // Authentication (401) and project access rules (403) apply to every operation.
  const statusRef = { $ref: "#/components/schemas/Status" };
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(
      operations as Record<string, { responses?: Record<string, unknown> }>,
    )) {
      if (!operation?.responses) continue;
      for (const code of AUTH_ERRORS) {
        operation.responses[String(code)] ??= {
          description: code === 401 ? "No known bearer token" : "Forbidden by the project's access rules",
          content: { "application/json": { schema: statusRef } },
        };
      }
    }
  }
  return document;
}
