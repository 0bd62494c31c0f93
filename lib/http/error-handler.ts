import type { Logger } from "@aws-lambda-powertools/logger";
import type { MiddlewareObj, Request } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { HttpError } from "../api/errors.js";
import { json } from "./respond.js";

/**
 * Renders every error as Radix's Status object `{status: "Failure", message, reason, code}`.
 * Known errors keep their status and message; middy's own (e.g. the router's 404) keep their status;
 * anything else is logged with its cause and answered with a generic 500 that leaks nothing.
 */
export function radixErrorHandler<TContext extends Context>(
  /** The request's logger (its correlated child logger). */
  loggerOf: (request: Request<APIGatewayProxyEvent, APIGatewayProxyResult, Error, TContext>) => Logger,
): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult, Error, TContext> {
  return {
    onError: (request) => {
      const error = request.error as
        | (Error & { statusCode?: number; expose?: boolean; cause?: unknown })
        | null;
      if (!error) return;
      if (error instanceof HttpError) {
        request.response = json(error.statusCode, {
          status: "Failure",
          message: error.message,
          reason: error.reason,
          code: error.statusCode,
        });
        return;
      }
      if (error.statusCode === 404) {
        const data = (error.cause as { data?: { method?: string; path?: string } } | undefined)?.data;
        const message = `route ${data?.method ?? ""} ${data?.path ?? ""} does not exist`.replace(/\s+/g, " ");
        request.response = json(404, { status: "Failure", message, reason: "NotFound", code: 404 });
        return;
      }
      loggerOf(request).error("request failed", {
        error,
        path: request.event?.path,
        method: request.event?.httpMethod,
      });
      request.response = json(500, {
        status: "Failure",
        message: "internal error; the request was logged with its cause",
        reason: "InternalError",
        code: 500,
      });
    },
  };
}
