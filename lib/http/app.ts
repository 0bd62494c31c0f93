import middy from "@middy/core";
import httpRouterHandler, { type Route } from "@middy/http-router";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { InvalidRequestError } from "../api/errors.js";
import { buildOpenApiDocument } from "../api/openapi.js";
import { batchScheduleDescriptionSchema, jobScheduleDescriptionSchema } from "../api/schemas.js";
import { IDEMPOTENCY_KEY } from "../idempotency/idempotency.js";
import { apiInvocation, type InvocationContext } from "../observability/correlation.js";
import { deleteBatch, deleteJob, stopAll, stopBatch, stopJob, stopJobInBatch } from "../service/control.js";
import { createBatch, createBatchOnce, createJob, createJobOnce } from "../service/create.js";
import type { ServiceDeps } from "../service/deps.js";
import { getJobLogs } from "../service/logs.js";
import { getBatch, getJob, getJobInBatch, listBatches, listJobs } from "../service/queries.js";
import { renderApiPage } from "./api-page.js";
import { radixErrorHandler } from "./error-handler.js";
import { parseBody, pathParameter, queryInteger } from "./parse.js";
import { json, TextBody, text } from "./respond.js";

let openApi: ReturnType<typeof buildOpenApiDocument> | undefined;
/** Built on first request, not at cold start. */
const openApiDocument = () => {
  openApi ??= buildOpenApiDocument();
  return openApi;
};

type Event = APIGatewayProxyEvent;
/** A route's work, given the request's own deps (its correlated logger: lib/observability/correlation.ts). */
type Handler = (event: Event, deps: ServiceDeps) => Promise<unknown>;

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

/** The routes of Radix's job-scheduler API (spec 000, swagger.json), as plain data. */
export function apiRoutes(
  component: string,
): { method: Route<Event, APIGatewayProxyResult>["method"]; path: string; run: Handler }[] {
  const job = (event: Event) => pathParameter(event, "jobName");
  const batch = (event: Event) => pathParameter(event, "batchName");
  return [
    { method: "GET", path: "/api/v1/openapi.json", run: async () => openApiDocument() },
    {
      method: "GET",
      path: "/api/v1/docs",
      run: async () => new TextBody(renderApiPage(openApiDocument()), "text/html; charset=utf-8"),
    },
    { method: "GET", path: "/api/v1/jobs", run: (_e, deps) => listJobs(deps, component) },
    {
      method: "POST",
      path: "/api/v1/jobs",
      run: (e, deps) => {
        const body = parseBody(e, jobScheduleDescriptionSchema, true);
        const key = idempotencyKeyOf(e);
        return key ? createJobOnce(deps, component, body, key) : createJob(deps, component, body);
      },
    },
    { method: "POST", path: "/api/v1/jobs/stop", run: (_e, deps) => stopAll(deps, component, "job") },
    { method: "GET", path: "/api/v1/jobs/{jobName}", run: (e, deps) => getJob(deps, component, job(e)) },
    {
      method: "GET",
      path: "/api/v1/jobs/{jobName}/logs",
      run: async (e, deps) => new TextBody(await getJobLogs(deps, component, job(e), logQueryOf(e))),
    },
    {
      method: "DELETE",
      path: "/api/v1/jobs/{jobName}",
      run: (e, deps) => deleteJob(deps, component, job(e)),
    },
    {
      method: "POST",
      path: "/api/v1/jobs/{jobName}/stop",
      run: (e, deps) => stopJob(deps, component, job(e)),
    },
    { method: "GET", path: "/api/v1/batches", run: (_e, deps) => listBatches(deps, component) },
    {
      method: "POST",
      path: "/api/v1/batches",
      run: (e, deps) => {
        const body = parseBody(e, batchScheduleDescriptionSchema, false);
        const key = idempotencyKeyOf(e);
        return key ? createBatchOnce(deps, component, body, key) : createBatch(deps, component, body);
      },
    },
    { method: "POST", path: "/api/v1/batches/stop", run: (_e, deps) => stopAll(deps, component, "batch") },
    {
      method: "GET",
      path: "/api/v1/batches/{batchName}",
      run: (e, deps) => getBatch(deps, component, batch(e), pageOf(e)),
    },
    {
      method: "DELETE",
      path: "/api/v1/batches/{batchName}",
      run: (e, deps) => deleteBatch(deps, component, batch(e)),
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/stop",
      run: (e, deps) => stopBatch(deps, component, batch(e)),
    },
    {
      method: "GET",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}",
      run: async (e, deps) => (await getJobInBatch(deps, component, batch(e), job(e))).view,
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}/stop",
      run: (e, deps) => stopJobInBatch(deps, component, batch(e), job(e)),
    },
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
      const result = await run(event, context.deps);
      return result instanceof TextBody ? text(200, result) : json(200, result);
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
