import middy from "@middy/core";
import httpRouterHandler, { type Route } from "@middy/http-router";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { InvalidRequestError } from "../api/errors.js";
import { batchScheduleDescriptionSchema, jobScheduleDescriptionSchema } from "../api/schemas.js";
import { deleteBatch, deleteJob, stopAll, stopBatch, stopJob, stopJobInBatch } from "../service/control.js";
import { createBatch, createJob } from "../service/create.js";
import type { ServiceDeps } from "../service/deps.js";
import { getBatch, getJob, getJobInBatch, listBatches, listJobs } from "../service/queries.js";
import { radixErrorHandler } from "./error-handler.js";
import { parseBody, pathParameter, queryInteger } from "./parse.js";
import { json } from "./respond.js";

type Event = APIGatewayProxyEvent;
type Handler = (event: Event) => Promise<unknown>;

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

/** The routes of Radix's job-scheduler API (spec 000, swagger.json), as plain data. */
export function apiRoutes(
  deps: ServiceDeps,
  component: string,
): { method: Route<Event, APIGatewayProxyResult>["method"]; path: string; run: Handler }[] {
  const job = (event: Event) => pathParameter(event, "jobName");
  const batch = (event: Event) => pathParameter(event, "batchName");
  return [
    { method: "GET", path: "/api/v1/jobs", run: () => listJobs(deps, component) },
    {
      method: "POST",
      path: "/api/v1/jobs",
      run: (e) => createJob(deps, component, parseBody(e, jobScheduleDescriptionSchema, true)),
    },
    { method: "POST", path: "/api/v1/jobs/stop", run: () => stopAll(deps, component, "job") },
    { method: "GET", path: "/api/v1/jobs/{jobName}", run: (e) => getJob(deps, component, job(e)) },
    { method: "DELETE", path: "/api/v1/jobs/{jobName}", run: (e) => deleteJob(deps, component, job(e)) },
    { method: "POST", path: "/api/v1/jobs/{jobName}/stop", run: (e) => stopJob(deps, component, job(e)) },
    { method: "GET", path: "/api/v1/batches", run: () => listBatches(deps, component) },
    {
      method: "POST",
      path: "/api/v1/batches",
      run: (e) => createBatch(deps, component, parseBody(e, batchScheduleDescriptionSchema, false)),
    },
    { method: "POST", path: "/api/v1/batches/stop", run: () => stopAll(deps, component, "batch") },
    {
      method: "GET",
      path: "/api/v1/batches/{batchName}",
      run: (e) => getBatch(deps, component, batch(e), pageOf(e)),
    },
    {
      method: "DELETE",
      path: "/api/v1/batches/{batchName}",
      run: (e) => deleteBatch(deps, component, batch(e)),
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/stop",
      run: (e) => stopBatch(deps, component, batch(e)),
    },
    {
      method: "GET",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}",
      run: async (e) => (await getJobInBatch(deps, component, batch(e), job(e))).view,
    },
    {
      method: "POST",
      path: "/api/v1/batches/{batchName}/jobs/{jobName}/stop",
      run: (e) => stopJobInBatch(deps, component, batch(e), job(e)),
    },
  ];
}

/**
 * The API Lambda handler of one job component (API Gateway REST proxy events). The same handler
 * serves the local stack. Success is always HTTP 200 (Radix code), errors are Radix Status objects.
 */
export function createApiHandler(deps: ServiceDeps, component: string) {
  const routes = apiRoutes(deps, component).map(({ method, path, run }) => ({
    method,
    path,
    handler: async (event: Event) => json(200, await run(event)),
  }));
  return middy<Event, APIGatewayProxyResult>()
    .use(radixErrorHandler(deps.logger))
    .handler(httpRouterHandler<Event, APIGatewayProxyResult>(routes as never) as never);
}
