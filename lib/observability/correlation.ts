import { correlationPaths, search } from "@aws-lambda-powertools/logger/correlationId";
import type { MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { ServiceDeps } from "../service/deps.js";

/**
 * Correlation ids with Powertools' own facilities. Each invocation gets a child of the process's logger
 * (`createChild`) holding the Lambda context (`addContext`) and its correlation id (`setCorrelationId`,
 * with Powertools' JMESPath correlation search for API Gateway and EventBridge events): every line it
 * logs carries `correlation_id`, and the deps handed to the use cases carry both, so the product events
 * of the changes it makes say who caused them.
 *
 * A child per invocation rather than `appendKeys`/`resetKeys` on the shared logger: the local stack
 * serves concurrent requests from one process, where keys appended to one shared logger would leak
 * from one request's lines into another's. In Lambda (one invocation at a time) a child costs next to
 * nothing.
 */

/** The header a caller may send to choose the correlation id of its request (echoed in the response). */
export const CORRELATION_HEADER = "x-correlation-id";

/** Printable ASCII without spaces, bounded: a caller's id is logged, so it must not be able to forge lines. */
const CORRELATION_ID = /^[\x21-\x7e]{1,128}$/;

/** The deps of one invocation: its own child logger with the context and correlation id. */
export function invocationDeps(
  deps: ServiceDeps,
  options: { context?: Partial<Context>; correlationId?: string; event?: unknown; path?: string } = {},
): ServiceDeps {
  const logger = deps.logger.createChild({ correlationIdSearchFn: search });
  if (options.context?.awsRequestId) logger.addContext(options.context as Context);
  if (options.correlationId) logger.setCorrelationId(options.correlationId);
  else if (options.event !== undefined && options.path) logger.setCorrelationId(options.event, options.path);
  const correlationId = logger.getCorrelationId();
  return { ...deps, logger, correlationId: typeof correlationId === "string" ? correlationId : undefined };
}

/** The caller's `x-correlation-id` when it is a sane token. */
export function requestedCorrelationId(event: Pick<APIGatewayProxyEvent, "headers">): string | undefined {
  const value = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === CORRELATION_HEADER,
  )?.[1];
  return value !== undefined && CORRELATION_ID.test(value) ? value : undefined;
}

/** The Lambda context with the invocation's deps on it (middy's convention: middlewares set context). */
export type InvocationContext = Context & { deps: ServiceDeps };

/**
 * middy middleware of the API: the request's deps on `context.deps`, correlated by the caller's
 * `x-correlation-id` or else API Gateway's request id (`requestContext.requestId`), and that id echoed in
 * the response's `x-correlation-id` header.
 */
export function apiInvocation(
  deps: ServiceDeps,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, InvocationContext> {
  const echo = (request: {
    response: APIGatewayProxyResult | null | undefined;
    context: InvocationContext;
  }) => {
    const id = request.context.deps?.correlationId;
    if (!request.response || !id) return;
    request.response.headers = { ...request.response.headers, [CORRELATION_HEADER]: id };
  };
  return {
    before: (request) => {
      request.context.deps = invocationDeps(deps, {
        context: request.context,
        correlationId: requestedCorrelationId(request.event),
        event: request.event,
        path: correlationPaths.API_GATEWAY_REST,
      });
    },
    after: echo,
    onError: echo,
  };
}

export { correlationPaths };
