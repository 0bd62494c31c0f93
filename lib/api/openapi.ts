import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import * as z from "zod";
import {
  batchScheduleDescriptionSchema,
  batchStatusSchema,
  jobScheduleDescriptionSchema,
  jobStatusSchema,
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
    request: { body: { ...json(jobScheduleDescriptionSchema), required: true } },
    responses: { ...ok("Successful create job", jobStatusSchema), ...errors(400, 404, 422, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/jobs",
    operationId: "getJobs",
    tags: ["Job"],
    summary: "Gets jobs",
    responses: { ...ok("Successful get jobs", z.array(jobStatusSchema)), ...errors(500) },
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
      ...errors(404, 500),
    },
  });

  registry.registerPath({
    method: "post",
    path: "/batches",
    operationId: "createBatch",
    tags: ["Batch"],
    summary: "Create batch",
    request: { body: { ...json(batchScheduleDescriptionSchema), required: true } },
    responses: { ...ok("Successful create batch", batchStatusSchema), ...errors(400, 404, 422, 500) },
  });
  registry.registerPath({
    method: "get",
    path: "/batches",
    operationId: "getBatches",
    tags: ["Batch"],
    summary: "Gets batches",
    responses: { ...ok("Successful get batches", z.array(batchStatusSchema)), ...errors(500) },
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

  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Radix-compatible job scheduler on AWS Batch",
      version: "1.0.0",
      description: "The Radix job-scheduler API (jobs, batches) with additions; see README.md.",
    },
    servers: [{ url: `${serverUrl.replace(/\/$/, "")}/api/v1` }],
  });
}
