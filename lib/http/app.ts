import middy from "@middy/core";
import httpRouterHandler, { type Route } from "@middy/http-router";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { InvalidRequestError } from "../api/errors.js";
import { type ListQuery, listQuerySchema, NEXT_TOKEN_HEADER } from "../api/list-query.js";
import { buildOpenApiDocument } from "../api/openapi.js";
import {
  batchScheduleDescriptionSchema,
  jobScheduleDescriptionSchema,
  priorityChangeSchema,
} from "../api/schemas.js";
import { IDEMPOTENCY_KEY } from "../idempotency/idempotency.js";
import { apiInvocation, type InvocationContext } from "../observability/correlation.js";
import { authorizeChange, authorizeSubmit, type Caller, mayChange } from "../service/access.js";
import { deleteBatch, deleteJob, stopAll, stopBatch, stopJob, stopJobInBatch } from "../service/control.js";
import { createBatch, createBatchOnce, createJob, createJobOnce } from "../service/create.js";
import type { ServiceDeps } from "../service/deps.js";
import { type ListPage, queryBatches, queryJobs } from "../service/listing.js";
import { getJobLogs } from "../service/logs.js";
import { getBatch, getJob, getJobInBatch, listBatches, listJobs } from "../service/queries.js";
import { changeBatchPriority, changeJobPriority, restartBatch, restartJob } from "../service/rerun.js";
import type { BatchRecord } from "../store/job-store.js";
import { renderApiPage } from "./api-page.js";
import { CONSOLE_PATH, consoleRoutes } from "./console-routes.js";
import { radixErrorHandler } from "./error-handler.js";
import { describeZodIssues, parseBody, pathParameter, queryInteger } from "./parse.js";
import { principalOf } from "./principal.js";
import { json, jsonWithHeaders, TextBody, text, WithHeaders } from "./respond.js";

let openApi: ReturnType<typeof buildOpenApiDocument> | undefined;
/** Built on first request, not at cold start. */
const openApiDocument = () => {
  openApi ??= buildOpenApiDocument();
  return openApi;
};

type Event = APIGatewayProxyEvent;
/** A route's work, given the request's own deps (its correlated logger) and its caller. */
type Handler = (event: Event, deps: ServiceDeps, caller: Caller) => Promise<unknown>;

const PUBLIC_PATHS = new Set(["/api/v1/openapi.json", "/api/v1/docs", CONSOLE_PATH]);

/** The largest page of a batch's jobs one GET returns. */
const MAX_PAGE = 10_000;

function pageOf(event: Event) {
  const limit = queryInteger(event, "limit", 1, MAX_PAGE);
  const nextToken = event.queryStringParameters?.nextToken ?? undefined;
  if (nextToken !== undefined && !/^\d{1,9}$/.test(nextToken)) {
    throw new InvalidRequestError("query parameter nextToken is not one this API returned");
  }
  return { limit: limit ?? (nextToken === undefined ? undefined : 1000), nextToken };
}

function idempotencyKeyOf(event: Event): string | undefined {
  const entry = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === "idempotency-key",
  );
  const key = entry?.[1];
  if (key === undefined || key === "") return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new InvalidRequestError(
      "header Idempotency-Key must be 1 to 255 printable ASCII characters without spaces",
    );
  }
  return key;
}

function logQueryOf(event: Event) {
  const sinceText = event.queryStringParameters?.since ?? undefined;
  const since = sinceText === undefined ? undefined : Date.parse(sinceText);
  if (since !== undefined && Number.isNaN(since)) {
    throw new InvalidRequestError(
      "query parameter since must be an RFC 3339 time, e.g. 2024-01-31T12:00:00Z",
    );
  }
  return {
    tail: queryInteger(event, "tail", 0, 1_000_000),
    since,
    attempt: queryInteger(event, "attempt", 0, 10_000),
  };
}

/** Filters and paging of a listing, or undefined when none is given (then the answer is Radix's). */
function listQueryOf(event: Event): ListQuery | undefined {
  const params = Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).filter(
      ([, value]) => value !== undefined && value !== "",
    ),
  );
  if (Object.keys(params).length === 0) return undefined;
  const known = Object.keys(listQuerySchema.shape);
  const unknown = Object.keys(params).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new InvalidRequestError(
      `unknown query parameter ${unknown.join(", ")}; known: ${known.join(", ")}`,
    );
  }
  const result = listQuerySchema.safeParse(params);
  if (!result.success) {
    throw new InvalidRequestError(`query is invalid: ${describeZodIssues(result.error.issues)}`);
  }
  return result.data;
}

const paged = <T>(page: ListPage<T>) =>
  new WithHeaders(page.items, page.nextToken ? { [NEXT_TOKEN_HEADER]: page.nextToken } : {});

function queryFlag(event: Event, name: string): boolean {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined || raw === null || raw === "" || raw === "false") return false;
  if (raw === "true") return true;
  throw new InvalidRequestError(`query parameter ${name} must be true or false`);
}

/** The projects a create request names (per job and in the batch defaults). */
function projectsOf(jobs: { project?: string }[], defaults?: { project?: string }): string[] {
  const named = jobs.map((job) => job.project ?? defaults?.project);
  return [...new Set(named.filter((project): project is string => project !== undefined))];
}

/** The routes of Radix's job-scheduler API (spec 000, swagger.json) and our additions, as plain data. */
export function apiRoutes(
  component: string,
): { method: Route<Event, APIGatewayProxyResult>["method"]; path: string; run: Handler }[] {
  const job = (event: Event) => pathParameter(event, "jobName");
  const batch = (event: Event) => pathParameter(event, "batchName");
  const jobInBatch = (event: Event) => `${batch(event)}-${job(event).slice(-8)}`;
  /** A change of existing jobs: 403 unless the caller may stop/change jobs of their project. */
  const changing =
    (target: (e: Event) => { batchName?: string; jobName?: string }, run: Handler): Handler =>
    async (e, deps, caller) => {
      await authorizeChange(deps, caller, target(e));
      return run(e, deps, caller);
    };
  const ofJob = (e: Event) => ({ jobName: job(e) });
  const ofBatch = (e: Event) => ({ batchName: batch(e) });
  const mayStop = (deps: ServiceDeps, caller: Caller) => (record: BatchRecord) =>
    mayChange(deps, caller, record);
  return [
    { method: "GET", path: "/api/v1/openapi.json", run: async () => openApiDocument() },
    {
      method: "GET",
      path: "/api/v1/docs",
      run: async () => new TextBody(renderApiPage(openApiDocument()), "text/html; charset=utf-8"),
    },
    {
      method: "GET",
      path: "/api/v1/jobs",
      run: async (e, deps) => {
        const query = listQueryOf(e);
        return query ? paged(await queryJobs(deps, component, query)) : listJobs(deps, component);
      },
    },
    {
      method: "POST",
      path: "/api/v1/jobs",
      run: (e, deps, caller) => {
        const body = parseBody(e, jobScheduleDescriptionSchema, true);
        authorizeSubmit(deps, caller, projectsOf([body]));
        const options = { reuse: queryFlag(e, "reuse"), submittedBy: caller.principal };
        const key = idempotencyKeyOf(e);
        return key
          ? createJobOnce(deps, component, body, key, options)
          : createJob(deps, component, body, options);
      },
    },
    {
      method: "POST",
      path: "/api/v1/jobs/stop",
      run: (_e, deps, caller) => stopAll(deps, component, "job", mayStop(deps, caller)),
    },
    { method: "GET", path: "/api/v1/jobs/{jobName}", run: (e, deps) => getJob(deps, component, job(e)) },
    {
      method: "GET",
      path: "/api/v1/jobs/{jobName}/logs",
      run: async (e, deps) => new TextBody(await getJobLogs(deps, component, job(e), logQueryOf(e))),
    },
    {
      method: "DELETE",
      path: "/api/v1/jobs/{jobName}",
      run: changing(ofJob, (e, deps) => deleteJob(deps, component, job(e))),
    },
    {
      method: "PATCH",
      path: "/api/v1/jobs/{jobName}",
      run: changing(ofJob, (e, deps) =>
        changeJobPriority(deps, component, job(e), parseBody(e, priorityChangeSchema, false)),
      ),
    },
    {
      method: "POST",
      path: "/api/v1/jobs/{jobName}/restart",
      run: changing(ofJob, (e, deps) => restartJob(deps, component, job(e))),
    },
    {
      method: "POST",
      path: "/api/v1/jobs/{jobName}/stop",
      run: changing(ofJob, (e, deps) => stopJob(deps, component, job(e))),
    },
    {
      method: "GET",
      path: "/api/v1/batches",
      run: async (e, deps) => {
        const query = listQueryOf(e);
        return query ? paged(await queryBatches(deps, component, query)) : listBatches(deps, component);
      },
    },
    {
      method: "POST",
      path: "/api/v1/batches",
      run: (e, deps, caller) => {
        const body = parseBody(e, batchScheduleDescriptionSchema, false);
        authorizeSubmit(
          deps,
          caller,
          projectsOf(body.jobScheduleDescriptions, body.defaultRadixJobComponentConfig),
        );
        const options = { reuse: queryFlag(e, "reuse"), submittedBy: caller.principal };
        const key = idempotencyKeyOf(e);
        return key
          ? createBatchOnce(deps, component, body, key, options)
          : createBatch(deps, component, body, options);
      },
    },
    {
      method: "POST",
      path: "/api/v1/batches/stop",
      run: (_e, deps, caller) => stopAll(deps, component, "batch", mayStop(deps, caller)),
    },
    {
      method: "GET",
      path: "/api/v1/batches/{batchName}",
      run: (e, deps) => getBatch(deps, component, batch(e), pageOf(e)),
    },
    {
      method: "DELETE",
      path: "/api/v1/batches/{batchName}",
      run: changing(ofBatch, (e, deps) => deleteBatch(deps, component, batch(e))),
    },
    {
      method: "PATCH",
      path: "/api/v1/batches/{batchName}",
      run: changing(ofBatch, (e, deps) =>
        changeBatchPriority(deps, component, batch(e), parseBody(e, priorityChangeSchema, false)),
      ),
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/restart",
      run: changing(ofBatch, (e, deps) =>
        restartBatch(deps, component, batch(e), { all: queryFlag(e, "all") }),
      ),
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/stop",
      run: changing(ofBatch, (e, deps) => stopBatch(deps, component, batch(e))),
    },
    {
      method: "GET",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}",
      run: async (e, deps) => (await getJobInBatch(deps, component, batch(e), job(e))).view,
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}/stop",
      run: changing(ofBatch, (e, deps) => stopJobInBatch(deps, component, batch(e), job(e))),
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}/restart",
      run: changing(ofBatch, (e, deps) => restartJob(deps, component, jobInBatch(e))),
    },
    ...consoleRoutes(component),
  ];
}

/**
 * The API Lambda handler of one job component (API Gateway REST proxy events). The same handler
 * serves the local stack. Success is always HTTP 200 (Radix code), errors are Radix Status objects.
 */
export function createApiHandler(deps: ServiceDeps, component: string) {
  const routes = apiRoutes(component).map(({ method, path, run }) => ({
    method,
    path,
    handler: async (event: Event, context: InvocationContext) => {
      // The API document and its page are public; everything else knows its caller.
      const caller: Caller = PUBLIC_PATHS.has(path) ? {} : { principal: principalOf(event, deps.auth) };
      const result = await run(event, context.deps, caller);
      if (result instanceof TextBody) return text(200, result);
      if (result instanceof WithHeaders) return jsonWithHeaders(200, result);
      return json(200, result);
    },
  }));
  const handler = middy<Event, APIGatewayProxyResult, Error, InvocationContext>()
    .use(apiInvocation(deps))
    .use({ after: () => deps.metrics?.flush(), onError: () => deps.metrics?.flush() })
    .use(radixErrorHandler<InvocationContext>((request) => request.context.deps?.logger ?? deps.logger))
    .handler(httpRouterHandler<Event, APIGatewayProxyResult>(routes as never) as never);
  // Called with Lambda's plain context; apiInvocation puts the request's deps on it before any route runs.
  return handler as unknown as (event: Event, context: Context) => Promise<APIGatewayProxyResult>;
}
