import type { APIGatewayProxyResult } from "aws-lambda";

export function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return { statusCode, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** A route result that is sent as text instead of JSON (job logs). */
export class TextBody {
  constructor(
    readonly text: string,
    readonly contentType = "text/plain; charset=utf-8",
  ) {}
}

export function text(statusCode: number, body: TextBody): APIGatewayProxyResult {
  return { statusCode, headers: { "content-type": body.contentType }, body: body.text };
}

/** A JSON route result with extra response headers (the next-page token of a listing). */
export class WithHeaders {
  constructor(
    readonly body: unknown,
    readonly headers: Record<string, string>,
  ) {}
}

export function jsonWithHeaders(statusCode: number, result: WithHeaders): APIGatewayProxyResult {
  const response = json(statusCode, result.body);
  return { ...response, headers: { ...response.headers, ...result.headers } };
}
