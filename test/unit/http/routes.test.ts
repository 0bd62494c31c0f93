import { readFileSync } from "node:fs";
import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "#lib/api/errors.js";
import { listQuerySchema } from "#lib/api/list-query.js";
import {
  batchPageQuerySchema,
  followQuerySchema,
  logQuerySchema,
  restartBatchQuerySchema,
  reuseQuerySchema,
} from "#lib/api/query.js";
import { parseFilters, parseQuery } from "#lib/http/parse.js";
import { apiRoutes, openApiDocument } from "#lib/http/routes.js";

const event = (query: Record<string, string | null>) =>
  ({ queryStringParameters: query }) as unknown as APIGatewayProxyEvent;

/** The 422 a bad query gets: its message, or the value when it parses. */
function outcome<T>(parse: () => T): T | string {
  try {
    return parse();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).statusCode).toBe(422);
    return (error as Error).message;
  }
}

describe("the route table", () => {
  const routes = apiRoutes("c");

  it("declares exactly the path parameters each path has", () => {
    for (const route of routes) {
      const inPath = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect(Object.keys(route.params?.shape ?? {}).sort(), `${route.method} ${route.path}`).toEqual(inPath);
    }
  });

  it("has one route per method and path, and unique operation ids", () => {
    const keys = routes.map((route) => `${route.method} ${route.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    const ids = routes.flatMap((route) => (route.doc ? [route.doc.operationId] : []));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("documents every route it serves except the document and its page", () => {
    const document = openApiDocument();
    const documented = Object.entries(document.paths ?? {}).flatMap(([path, operations]) =>
      Object.keys(operations as object).map((method) => `${method.toUpperCase()} /api/v1${path}`),
    );
    const served = routes.map((route) => `${route.method} ${route.path}`);
    expect(served.filter((route) => !documented.includes(route)).sort()).toEqual([
      "GET /api/v1/docs",
      "GET /api/v1/openapi.json",
    ]);
    expect(documented.filter((route) => !served.includes(route))).toEqual([]);
  });

  it("is what the committed openapi.json says (run `npm run openapi` after changing a route or schema)", () => {
    const committed = JSON.parse(readFileSync("openapi.json", "utf8"));
    expect(JSON.parse(JSON.stringify(openApiDocument()))).toEqual(committed);
  });
});

describe("query strings, validated by zod", () => {
  it("name the parameter that is wrong", () => {
    expect(outcome(() => parseQuery(event({ tail: "ten" }), logQuerySchema))).toBe(
      "query parameter tail must be a whole number from 0 to 1000000",
    );
    expect(outcome(() => parseQuery(event({ attempt: "1.5" }), followQuerySchema))).toBe(
      "query parameter attempt must be a whole number from 0 to 10000",
    );
    expect(outcome(() => parseQuery(event({ since: "yesterday" }), logQuerySchema))).toMatch(
      /^query parameter since must be an RFC 3339 time/,
    );
    expect(outcome(() => parseQuery(event({ reuse: "yes" }), reuseQuerySchema))).toBe(
      "query parameter reuse must be true or false",
    );
    expect(outcome(() => parseQuery(event({ limit: "0" }), batchPageQuerySchema))).toBe(
      "query parameter limit must be a whole number from 1 to 10000",
    );
    expect(outcome(() => parseQuery(event({ nextToken: "abc" }), batchPageQuerySchema))).toBe(
      "query parameter nextToken is not one this API returned",
    );
  });

  it("read absent and empty values as not given, and convert the rest", () => {
    expect(parseQuery(event({ reuse: "" }), reuseQuerySchema)).toEqual({ reuse: false });
    expect(parseQuery(event({}), restartBatchQuerySchema)).toEqual({ all: false });
    expect(parseQuery(event({ all: "true" }), restartBatchQuerySchema)).toEqual({ all: true });
    expect(
      parseQuery(event({ tail: "", attempt: null, since: "2024-01-31T12:00:00Z" }), logQuerySchema),
    ).toEqual({
      tail: undefined,
      attempt: undefined,
      since: Date.parse("2024-01-31T12:00:00Z"),
    });
    expect(parseQuery(event({ limit: "5", nextToken: "12" }), batchPageQuerySchema)).toEqual({
      limit: 5,
      nextToken: "12",
    });
  });

  it("for a listing: none given is Radix's answer; unknown names are refused; ignored names pass", () => {
    expect(parseFilters(event({ status: "" }), listQuerySchema)).toBeUndefined();
    expect(outcome(() => parseFilters(event({ colour: "red" }), listQuerySchema))).toMatch(
      /^unknown query parameter colour; known: status, /,
    );
    expect(outcome(() => parseFilters(event({ limit: "0" }), listQuerySchema))).toMatch(
      /^query is invalid: limit: /,
    );
    const batches = listQuerySchema.omit({ batchName: true, jobId: true });
    expect(parseFilters(event({ batchName: "b", limit: "2" }), batches, ["batchName", "jobId"])).toEqual({
      limit: 2,
    });
  });
});
