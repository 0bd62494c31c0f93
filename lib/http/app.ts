import middy from "@middy/core";
import httpRouterHandler from "@middy/http-router";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { apiInvocation, type InvocationContext } from "../observability/correlation.js";
import type { Caller } from "../service/access.js";
import type { ServiceDeps } from "../service/deps.js";
import { radixErrorHandler } from "./error-handler.js";
import { parseBody, parseFilters, parseQuery, pathParameter } from "./parse.js";
import { principalOf } from "./principal.js";
import { json, jsonWithHeaders, TextBody, text, WithHeaders } from "./respond.js";
import { type ApiRoute, apiRoutes, type RouteRequest } from "./routes.js";

type Event = APIGatewayProxyEvent;

/**
 * A route's request: path parameters decoded; query and body validated by the route's schemas when the
 * handler first reads them (so a handler's own checks keep their order, e.g. 403 before a bad flag).
 */
function requestOf(
  route: ApiRoute,
  event: Event,
  deps: ServiceDeps,
  caller: Caller,
): RouteRequest<unknown, unknown> {
  const params = Object.fromEntries(
    Object.keys(route.params?.shape ?? {}).map((name) => [name, pathParameter(event, name)]),
  );
  let query: { value: unknown } | undefined;
  let body: { value: unknown } | undefined;
  return {
    event,
    params,
    deps,
    caller,
    get query() {
      query ??= {
        value: !route.query
          ? undefined
          : route.filters
            ? parseFilters(event, route.query, route.filters.ignored)
            : parseQuery(event, route.query),
      };
      return query.value;
    },
    get body() {
      body ??= {
        value: route.body ? parseBody(event, route.body.schema, route.body.emptyAllowed) : undefined,
      };
      return body.value;
    },
  };
}

/**
 * The API Lambda handler of one job component (API Gateway REST proxy events), routed by the route
 * table (routes.ts). The same handler serves the local stack. Success is always HTTP 200 (Radix code),
 * errors are Radix Status objects.
 */
export function createApiHandler(deps: ServiceDeps, component: string) {
  const routes = apiRoutes(component).map((route) => ({
    method: route.method,
    path: route.path,
    handler: async (event: Event, context: InvocationContext) => {
      // The API document and its page are public; everything else knows its caller.
      const caller: Caller = route.public ? {} : { principal: principalOf(event, deps.auth) };
      const result = await route.run(requestOf(route, event, context.deps, caller));
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
