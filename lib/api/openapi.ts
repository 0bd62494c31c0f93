import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from "@asteasolutions/zod-to-openapi";
import type * as z from "zod";
import { NEXT_TOKEN_HEADER } from "./list-query.js";
import { statusSchema } from "./schemas.js";

/** The part of a route the document needs; the route table (lib/http/routes.ts) is the only list of them. */
export interface RouteDoc {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** As served, e.g. /api/v1/jobs/{jobName}. */
  path: string;
  /** Absent: not in the document (the document itself and its page). */
  doc?: { operationId: string; tags: string[]; summary: string; description?: string };
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: { schema: z.ZodType; emptyAllowed: boolean };
  responses?: RouteConfig["responses"];
}

/** Paths in the document are relative to its server URL, which ends in /api/v1. */
export const API_BASE = "/api/v1";

/** Error answers, each a Radix Status object. */
export const errors = (...codes: number[]) =>
  Object.fromEntries(
    codes.map((code) => [
      String(code),
      {
        description:
          {
            400: "Bad request",
            401: "No known bearer token (local stack with tokens configured)",
            403: "Forbidden",
            404: "Not found",
            409: "Conflict",
            422: "Invalid data in request",
            500: "Internal server error",
          }[code] ?? "Error",
        content: { "application/json": { schema: statusSchema } },
      },
    ]),
  );

export const ok = (description: string, schema: z.ZodType) => ({
  200: { description, content: { "application/json": { schema } } },
});

/** Every route may answer these when authentication or project access rules are configured. */
export const AUTH_ERRORS = [401, 403];

export const listed = (description: string, schema: z.ZodType) => ({
  200: {
    description,
    headers: {
      [NEXT_TOKEN_HEADER]: {
        description: "Present when more items match: pass it back as nextToken",
        schema: { type: "string" as const },
      },
    },
    content: { "application/json": { schema } },
  },
});

/**
 * The OpenAPI 3.1 document, generated from the route table and the zod schemas that validate requests
 * (no hand-written copy). Paths, operation ids and model names follow Radix's published job-scheduler
 * swagger.json, so clients generated from either work against this API.
 */
export function buildOpenApiDocument(routes: readonly RouteDoc[], serverUrl = "/") {
  const registry = new OpenAPIRegistry();
  for (const route of routes) {
    if (!route.doc) continue;
    registry.registerPath({
      method: route.method.toLowerCase() as RouteConfig["method"],
      path: route.path.slice(API_BASE.length),
      ...route.doc,
      ...(route.params || route.query || route.body
        ? {
            request: {
              ...(route.params ? { params: route.params } : {}),
              ...(route.query ? { query: route.query } : {}),
              ...(route.body
                ? { body: { content: { "application/json": { schema: route.body.schema } }, required: true } }
                : {}),
            },
          }
        : {}),
      responses: route.responses ?? {},
    });
  }

  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: "3.1.0",
    info: {
      title: "Radix-compatible job scheduler on AWS Batch",
      version: "1.0.0",
      description: "The Radix job-scheduler API (jobs, batches) with additions; see README.md.",
    },
    servers: [{ url: `${serverUrl.replace(/\/$/, "")}/api/v1` }],
  });
  // Authentication (401) and project access rules (403) apply to every operation.
  const statusRef = { $ref: "#/components/schemas/Status" };
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(
      operations as Record<string, { responses?: Record<string, unknown> }>,
    )) {
      if (!operation?.responses) continue;
      for (const code of AUTH_ERRORS) {
        operation.responses[String(code)] ??= {
          description: code === 401 ? "No known bearer token" : "Forbidden by the project's access rules",
          content: { "application/json": { schema: statusRef } },
        };
      }
    }
  }
  return document;
}
