import type { APIGatewayProxyEvent } from "aws-lambda";
import type { z } from "zod";
import { InvalidRequestError } from "../api/errors.js";
import { IDEMPOTENCY_KEY } from "../idempotency/idempotency.js";

/** Names the fields of zod issues without echoing values (payloads must never reach a message or log). */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[], max = 5): string {
  const parts = issues.slice(0, max).map((issue) => {
    const path = issue.path
      .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`))
      .join("")
      .replace(/^\./, "");
    // A record key that fails (a variable name) carries its own reasons; say them.
    const inner = issue.code === "invalid_key" ? issue.issues.map((nested) => nested.message).join(", ") : "";
    return `${path || "body"}: ${inner ? `invalid name: ${inner}` : issue.message}`;
  });
  if (issues.length > max) parts.push(`and ${issues.length - max} more problems`);
  return parts.join("; ");
}

/**
 * Parses and validates a JSON body. An empty body is `{}` (Radix accepts it); malformed JSON or a body
 * that does not match the schema is a 422 Invalid naming the field.
 */
export function parseBody<S extends z.ZodType>(
  event: APIGatewayProxyEvent,
  schema: S,
  emptyAllowed: boolean,
): z.infer<S> {
  const text = event.body
    ? event.isBase64Encoded
      ? Buffer.from(event.body, "base64").toString("utf8")
      : event.body
    : "";
  let raw: unknown = {};
  if (text.trim().length > 0) {
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new InvalidRequestError(
        `request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`,
      );
    }
  } else if (!emptyAllowed) {
    throw new InvalidRequestError("request body is empty; a JSON object is required");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new InvalidRequestError("request body must be a JSON object");
  }
  const result = schema.safeParse(raw);
  if (!result.success)
    throw new InvalidRequestError(`request body is invalid: ${describeZodIssues(result.error.issues)}`);
  return result.data;
}

/** Path parameters arrive URL-encoded from the router; a name that cannot be decoded matches nothing. */
export function pathParameter(event: APIGatewayProxyEvent, name: string): string {
  const raw = event.pathParameters?.[name] ?? "";
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The query string without absent values (API Gateway gives null or omits them). */
function queryOf(event: APIGatewayProxyEvent): Record<string, string> {
  return Object.fromEntries(
    Object.entries(event.queryStringParameters ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === "string",
    ),
  );
}

/**
 * Validates the query string with the route's zod schema: a 422 Invalid whose message names the
 * parameter (each query schema's errors are whole sentences, see lib/api/query.ts).
 */
export function parseQuery<S extends z.ZodObject>(event: APIGatewayProxyEvent, schema: S): z.infer<S> {
  const result = schema.safeParse(queryOf(event));
  if (!result.success)
    throw new InvalidRequestError(result.error.issues.map((issue) => issue.message).join("; "));
  return result.data;
}

/**
 * Filters and paging of a listing (GET /jobs, GET /batches), or undefined when none is given (then the
 * answer is Radix's). Unknown names are refused; `ignored` names are accepted and dropped.
 */
export function parseFilters<S extends z.ZodObject>(
  event: APIGatewayProxyEvent,
  schema: S,
  ignored: readonly string[] = [],
): z.infer<S> | undefined {
  const params = Object.fromEntries(Object.entries(queryOf(event)).filter(([, value]) => value !== ""));
  if (Object.keys(params).length === 0) return undefined;
  const known = [...Object.keys(schema.shape), ...ignored];
  const unknown = Object.keys(params).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new InvalidRequestError(
      `unknown query parameter ${unknown.join(", ")}; known: ${known.join(", ")}`,
    );
  }
  const result = schema.safeParse(params);
  if (!result.success) {
    throw new InvalidRequestError(`query is invalid: ${describeZodIssues(result.error.issues)}`);
  }
  return result.data;
}

/** The Idempotency-Key header (any case), or undefined; a malformed key is a 422 naming the header. */
export function idempotencyKeyOf(event: APIGatewayProxyEvent): string | undefined {
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
