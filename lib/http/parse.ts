import type { APIGatewayProxyEvent } from "aws-lambda";
import type { z } from "zod";
import { InvalidRequestError } from "../api/errors.js";

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

export function queryInteger(
  event: APIGatewayProxyEvent,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const raw = event.queryStringParameters?.[name];
  if (raw === undefined || raw === null || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new InvalidRequestError(`query parameter ${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}
