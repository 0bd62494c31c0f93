import type { APIGatewayProxyEvent } from "aws-lambda";
import * as z from "zod";
import { listQuerySchema, NEXT_TOKEN_HEADER } from "../api/list-query.js";
import { logChunkSchema } from "../api/log-chunk.js";
import { AUTH_ERRORS, buildOpenApiDocument, errors, listed, ok, type RouteDoc } from "../api/openapi.js";
import {
  batchPageQuerySchema,
  followQuerySchema,
  logQuerySchema,
  restartBatchQuerySchema,
  reuseQuerySchema,
} from "../api/query.js";
import {
  batchScheduleDescriptionSchema,
  batchStatusSchema,
  jobScheduleDescriptionSchema,
  jobStatusSchema,
  priorityChangeSchema,
  statusSchema,
} from "../api/schemas.js";
import { consolePage } from "../console/page.js";
import { authorizeChange, authorizeSubmit, type Caller, mayChange } from "../service/access.js";
import { deleteBatch, deleteJob, stopAll, stopBatch, stopJob, stopJobInBatch } from "../service/control.js";
import { createBatch, createBatchOnce, createJob, createJobOnce } from "../service/create.js";
import type { ServiceDeps } from "../service/deps.js";
import { type ListPage, queryBatches, queryJobs } from "../service/listing.js";
import { followJobLogs } from "../service/log-follow.js";
import { getJobLogs } from "../service/logs.js";
import { getBatch, getJob, getJobInBatch, listBatches, listJobs } from "../service/queries.js";
import { changeBatchPriority, changeJobPriority, restartBatch, restartJob } from "../service/rerun.js";
import type { BatchRecord } from "../store/job-store.js";
import { renderApiPage } from "./api-page.js";
import { idempotencyKeyOf } from "./parse.js";
import { TextBody, WithHeaders } from "./respond.js";

/**
 * The API's one route table, as data: method, path, path parameters, query and body schemas, the
 * documented answers and the handler. The middy router (app.ts) and the OpenAPI document are both
 * built from it, so what is served and what is published cannot drift apart.
 */

/** What a handler gets: the validated input (parsed when first read, so checks run in the handler's order). */
export interface RouteRequest<Q, B> {
  event: APIGatewayProxyEvent;
  /** Path parameters, URL-decoded. */
  params: Record<string, string>;
  /** The query string validated by the route's `query` schema (422 naming the parameter). */
  readonly query: Q;
  /** The body validated by the route's `body` schema (422 naming the field). */
  readonly body: B;
  deps: ServiceDeps;
  caller: Caller;
}

export interface ApiRoute<Q = unknown, B = unknown> extends RouteDoc {
  /** Served without knowing the caller (the document, its page and the console page). */
  public?: boolean;
  /** A change of existing jobs: 403 unless the caller may stop/change jobs of their project. */
  changes?: "job" | "batch";
  /** A listing's filters: absent when none is given; unknown names are refused (see parseFilters). */
  filters?: { ignored?: readonly string[] };
  run: (request: RouteRequest<Q, B>) => Promise<unknown>;
}

type Out<S> = S extends z.ZodType ? z.output<S> : undefined;

/** One route; infers the handler's query and body types from the schemas. */
function route<Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  definition: Omit<ApiRoute, "query" | "body" | "run"> & {
    query?: Q;
    body?: { schema: B; emptyAllowed: boolean };
    run: (request: RouteRequest<Out<Q>, Out<B>>) => Promise<unknown>;
  },
): ApiRoute {
  const { changes, run } = definition;
  if (!changes) return definition as unknown as ApiRoute;
  const target = (params: Record<string, string>) =>
    changes === "job" ? { jobName: params.jobName } : { batchName: params.batchName };
  return {
    ...definition,
    run: async (request: RouteRequest<Out<Q>, Out<B>>) => {
      await authorizeChange(request.deps, request.caller, target(request.params));
      return run(request);
    },
  } as unknown as ApiRoute;
}

/** The console's page: static, carries no data, so it is public like the API's own docs page. */
export const CONSOLE_PATH = "/api/v1/console";

const jobName = z.object({ jobName: z.string().meta({ description: "Name of the job" }) });
const batchName = z.object({ batchName: z.string().meta({ description: "Name of the batch" }) });
const batchJob = batchName.extend(jobName.shape);

const paged = <T>(page: ListPage<T>) =>
  new WithHeaders(page.items, page.nextToken ? { [NEXT_TOKEN_HEADER]: page.nextToken } : {});

/** The projects a create request names (per job and in the batch defaults). */
function projectsOf(jobs: { project?: string }[], defaults?: { project?: string }): string[] {
  const named = jobs.map((job) => job.project ?? defaults?.project);
  return [...new Set(named.filter((project): project is string => project !== undefined))];
}

const mayStop =
  ({ deps, caller }: { deps: ServiceDeps; caller: Caller }) =>
  (record: BatchRecord) =>
    mayChange(deps, caller, record);
/** Path parameters the router matched (always present on these paths). */
const param = (request: { params: Record<string, string> }, name: string) => request.params[name] ?? "";

/**
 * The routes of Radix's job-scheduler API (equinor/radix-operator job-scheduler swagger.json) and our
 * additions. Without a component (the document only), handlers are never run.
 */
export function apiRoutes(component = ""): ApiRoute[] {
  let document: ReturnType<typeof buildOpenApiDocument> | undefined;
  /** Built on first request, not at cold start. */
  const openApi = () => {
    document ??= buildOpenApiDocument(routes);
    return document;
  };
  const routes: ApiRoute[] = [
    route({ method: "GET", path: "/api/v1/openapi.json", public: true, run: async () => openApi() }),
    route({
      method: "GET",
      path: "/api/v1/docs",
      public: true,
      run: async () => new TextBody(renderApiPage(openApi()), "text/html; charset=utf-8"),
    }),
    route({
      method: "POST",
      path: "/api/v1/jobs",
      doc: { operationId: "createJob", tags: ["Job"], summary: "Create job" },
      query: reuseQuerySchema,
      body: { schema: jobScheduleDescriptionSchema, emptyAllowed: true },
      responses: {
        ...ok("Successful create job", jobStatusSchema),
        ...errors(400, ...AUTH_ERRORS, 404, 409, 422, 500),
      },
      run: (request) => {
        const { deps, caller, body } = request;
        authorizeSubmit(deps, caller, projectsOf([body]));
        const options = { reuse: request.query.reuse, submittedBy: caller.principal };
        const key = idempotencyKeyOf(request.event);
        return key
          ? createJobOnce(deps, component, body, key, options)
          : createJob(deps, component, body, options);
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/jobs",
      doc: {
        operationId: "getJobs",
        tags: ["Job"],
        summary: "Gets jobs",
        description:
          "Without parameters: every single job, newest first (Radix). With filters (beyond Radix): single jobs, or with batchName/batchId the jobs of those batches; paged with limit and the X-Next-Token header.",
      },
      query: listQuerySchema,
      filters: {},
      responses: {
        ...listed("Successful get jobs", z.array(jobStatusSchema)),
        ...errors(...AUTH_ERRORS, 404, 422, 500),
      },
      run: async ({ deps, query }) =>
        query ? paged(await queryJobs(deps, component, query)) : listJobs(deps, component),
    }),
    route({
      method: "POST",
      path: "/api/v1/jobs/stop",
      doc: { operationId: "stopAllJobs", tags: ["Job"], summary: "Stop all jobs" },
      responses: { ...ok("Successful stop jobs", statusSchema), ...errors(400, 404, 500) },
      run: (request) => stopAll(request.deps, component, "job", mayStop(request)),
    }),
    route({
      method: "GET",
      path: "/api/v1/jobs/{jobName}",
      doc: { operationId: "getJob", tags: ["Job"], summary: "Gets job" },
      params: jobName,
      responses: { ...ok("Successful get job", jobStatusSchema), ...errors(404, 500) },
      run: (request) => getJob(request.deps, component, param(request, "jobName")),
    }),
    route({
      method: "DELETE",
      path: "/api/v1/jobs/{jobName}",
      doc: { operationId: "deleteJob", tags: ["Job"], summary: "Delete job" },
      params: jobName,
      responses: { ...ok("Successful delete job", statusSchema), ...errors(400, 404, 500) },
      changes: "job",
      run: (request) => deleteJob(request.deps, component, param(request, "jobName")),
    }),
    route({
      method: "POST",
      path: "/api/v1/jobs/{jobName}/stop",
      doc: { operationId: "stopJob", tags: ["Job"], summary: "Stop job" },
      params: jobName,
      responses: { ...ok("Successful stop job", statusSchema), ...errors(400, 404, 500) },
      changes: "job",
      run: (request) => stopJob(request.deps, component, param(request, "jobName")),
    }),
    route({
      method: "GET",
      path: "/api/v1/jobs/{jobName}/logs",
      doc: {
        operationId: "getJobLogs",
        tags: ["Job"],
        summary: "Output of the job's latest (or given) attempt",
      },
      params: jobName,
      query: logQuerySchema,
      responses: {
        200: { description: "The log text", content: { "text/plain": { schema: z.string() } } },
        ...errors(404, 422, 500),
      },
      run: async (request) =>
        new TextBody(await getJobLogs(request.deps, component, param(request, "jobName"), request.query)),
    }),
    route({
      method: "POST",
      path: "/api/v1/batches",
      doc: { operationId: "createBatch", tags: ["Batch"], summary: "Create batch" },
      query: reuseQuerySchema,
      body: { schema: batchScheduleDescriptionSchema, emptyAllowed: false },
      responses: {
        ...ok("Successful create batch", batchStatusSchema),
        ...errors(400, ...AUTH_ERRORS, 404, 409, 422, 500),
      },
      run: (request) => {
        const { deps, caller, body } = request;
        authorizeSubmit(
          deps,
          caller,
          projectsOf(body.jobScheduleDescriptions, body.defaultRadixJobComponentConfig),
        );
        const options = { reuse: request.query.reuse, submittedBy: caller.principal };
        const key = idempotencyKeyOf(request.event);
        return key
          ? createBatchOnce(deps, component, body, key, options)
          : createBatch(deps, component, body, options);
      },
    }),
    route({
      method: "GET",
      path: "/api/v1/batches",
      doc: {
        operationId: "getBatches",
        tags: ["Batch"],
        summary: "Gets batches",
        description:
          "Without parameters: every batch without its jobs, newest first (Radix). With filters (beyond Radix): paged with limit and the X-Next-Token header.",
      },
      query: listQuerySchema.omit({ batchName: true, jobId: true }),
      // Always accepted here (and without effect on batches); kept so no existing caller gets a 422.
      filters: { ignored: ["batchName", "jobId"] },
      responses: {
        ...listed("Successful get batches", z.array(batchStatusSchema)),
        ...errors(...AUTH_ERRORS, 422, 500),
      },
      run: async ({ deps, query }) =>
        query ? paged(await queryBatches(deps, component, query)) : listBatches(deps, component),
    }),
    route({
      method: "POST",
      path: "/api/v1/batches/stop",
      doc: { operationId: "stopAllBatches", tags: ["Batch"], summary: "Stop all batches" },
      responses: { ...ok("Successful stop batches", statusSchema), ...errors(400, 404, 500) },
      run: (request) => stopAll(request.deps, component, "batch", mayStop(request)),
    }),
    route({
      method: "GET",
      path: "/api/v1/batches/{batchName}",
      doc: { operationId: "getBatch", tags: ["Batch"], summary: "Gets batch" },
      params: batchName,
      query: batchPageQuerySchema,
      responses: { ...ok("Successful get batch", batchStatusSchema), ...errors(404, 422, 500) },
      run: (request) => {
        const { limit, nextToken } = request.query;
        // Asked for a later page without a limit: pages of 1000.
        const page = { limit: limit ?? (nextToken === undefined ? undefined : 1000), nextToken };
        return getBatch(request.deps, component, param(request, "batchName"), page);
      },
    }),
    route({
      method: "DELETE",
      path: "/api/v1/batches/{batchName}",
      doc: { operationId: "deleteBatch", tags: ["Batch"], summary: "Delete batch" },
      params: batchName,
      responses: { ...ok("Successful delete batch", statusSchema), ...errors(404, 500) },
      changes: "batch",
      run: (request) => deleteBatch(request.deps, component, param(request, "batchName")),
    }),
    route({
      method: "POST",
      path: "/api/v1/batches/{batchName}/stop",
      doc: { operationId: "stopBatch", tags: ["Batch"], summary: "Stop batch" },
      params: batchName,
      responses: { ...ok("Successful stop batch", statusSchema), ...errors(400, 404, 500) },
      changes: "batch",
      run: (request) => stopBatch(request.deps, component, param(request, "batchName")),
    }),
    route({
      method: "GET",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}",
      doc: { operationId: "getBatchJob", tags: ["Batch"], summary: "Gets batch job" },
      params: batchJob,
      responses: { ...ok("Successful get job", jobStatusSchema), ...errors(404, 500) },
      run: async (request) =>
        (await getJobInBatch(request.deps, component, param(request, "batchName"), param(request, "jobName")))
          .view,
    }),
    route({
      method: "POST",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}/stop",
      doc: { operationId: "stopBatchJob", tags: ["Batch"], summary: "Stop batch job" },
      params: batchJob,
      responses: { ...ok("Successful stop batch job", statusSchema), ...errors(400, 404, 500) },
      changes: "batch",
      run: (request) =>
        stopJobInBatch(request.deps, component, param(request, "batchName"), param(request, "jobName")),
    }),
    route({
      method: "PATCH",
      path: "/api/v1/jobs/{jobName}",
      doc: {
        operationId: "updateJob",
        tags: ["Job"],
        summary: "Change the priority of a waiting job (beyond Radix)",
        description:
          "AWS Batch cannot change a waiting container job's priority in place: the job is cancelled and submitted again with the new priority, under the same name. A job that already started keeps running.",
      },
      params: jobName,
      body: { schema: priorityChangeSchema, emptyAllowed: false },
      responses: { ...ok("The job", jobStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 422, 500) },
      changes: "job",
      run: (request) => changeJobPriority(request.deps, component, param(request, "jobName"), request.body),
    }),
    route({
      method: "POST",
      path: "/api/v1/jobs/{jobName}/restart",
      doc: {
        operationId: "restartJob",
        tags: ["Job"],
        summary: "Run an ended job again as a new run of the same name (beyond Radix)",
      },
      params: jobName,
      responses: { ...ok("The restarted job", jobStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 500) },
      changes: "job",
      run: (request) => restartJob(request.deps, component, param(request, "jobName")),
    }),
    route({
      method: "PATCH",
      path: "/api/v1/batches/{batchName}",
      doc: {
        operationId: "updateBatch",
        tags: ["Batch"],
        summary: "Change the priority of the batch's waiting jobs (beyond Radix)",
      },
      params: batchName,
      body: { schema: priorityChangeSchema, emptyAllowed: false },
      responses: { ...ok("The batch", batchStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 422, 500) },
      changes: "batch",
      run: (request) =>
        changeBatchPriority(request.deps, component, param(request, "batchName"), request.body),
    }),
    route({
      method: "POST",
      path: "/api/v1/batches/{batchName}/restart",
      doc: {
        operationId: "restartBatch",
        tags: ["Batch"],
        summary: "Run the batch's failed, stopped and past-deadline jobs again (beyond Radix)",
      },
      params: batchName,
      query: restartBatchQuerySchema,
      responses: { ...ok("The batch", batchStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 422, 500) },
      changes: "batch",
      run: (request) =>
        restartBatch(request.deps, component, param(request, "batchName"), { all: request.query.all }),
    }),
    route({
      method: "POST",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}/restart",
      doc: {
        operationId: "restartBatchJob",
        tags: ["Batch"],
        summary: "Run one ended job of a batch again (beyond Radix)",
      },
      params: batchJob,
      responses: { ...ok("The restarted job", jobStatusSchema), ...errors(400, ...AUTH_ERRORS, 404, 500) },
      changes: "batch",
      run: (request) =>
        restartJob(
          request.deps,
          component,
          `${param(request, "batchName")}-${param(request, "jobName").slice(-8)}`,
        ),
    }),
    route({
      method: "GET",
      path: "/api/v1/jobs/{jobName}/logs/follow",
      doc: {
        operationId: "followJobLogs",
        tags: ["Job"],
        summary: "Follow the job's output: new lines since a cursor (beyond Radix)",
        description:
          "Poll with the cursor of the previous answer to get only newer lines; without `attempt` the follow moves on to later attempts. Stop when `final` is true.",
      },
      params: jobName,
      query: followQuerySchema,
      responses: { ...ok("New lines and the next cursor", logChunkSchema), ...errors(400, 404, 422, 500) },
      run: (request) => {
        const { cursor, tail, attempt } = request.query;
        const query = { ...(cursor ? { cursor } : {}), tail, attempt };
        return followJobLogs(request.deps, component, param(request, "jobName"), query);
      },
    }),
    route({
      method: "GET",
      path: CONSOLE_PATH,
      public: true,
      doc: {
        operationId: "getConsole",
        tags: ["Console"],
        summary: "The web console for people (HTML; beyond Radix)",
      },
      responses: {
        200: { description: "The console page", content: { "text/html": { schema: z.string() } } },
      },
      run: async () => new TextBody(consolePage(), "text/html; charset=utf-8"),
    }),
  ];
  return routes;
}

/** The OpenAPI document of the route table (`npm run openapi` writes it to openapi.json). */
export const openApiDocument = (serverUrl = "/") => buildOpenApiDocument(apiRoutes(), serverUrl);
