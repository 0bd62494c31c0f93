import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";

/** API Gateway's payload limit (10 MB) and Lambda's synchronous request limit (6 MB): the smaller wins. */
export const MAX_REQUEST_BYTES = 6 * 1024 * 1024;

type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

async function readBody(request: IncomingMessage): Promise<Buffer | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) return "too-large";
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Turns a Node request into the REST API proxy event API Gateway would send to the function. */
export function toProxyEvent(request: IncomingMessage, body: Buffer): APIGatewayProxyEvent {
  const url = new URL(request.url ?? "/", "http://localhost");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = value;
    multiQuery[name] = [...(multiQuery[name] ?? []), value];
  }
  return {
    resource: "/{proxy+}",
    path: url.pathname,
    httpMethod: request.method ?? "GET",
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length ? multiQuery : null,
    pathParameters: { proxy: url.pathname.replace(/^\//, "") },
    stageVariables: null,
    requestContext: {
      requestId: randomUUID(),
      stage: "local",
      httpMethod: request.method ?? "GET",
      path: url.pathname,
      identity: { sourceIp: request.socket.remoteAddress ?? "127.0.0.1" },
    } as APIGatewayProxyEvent["requestContext"],
    body: body.length ? body.toString("utf8") : null,
    isBase64Encoded: false,
  };
}

const localContext = (): Context =>
  ({
    functionName: "local-api",
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => 29_000,
    callbackWaitsForEmptyEventLoop: false,
  }) as Context;

/** Serves the API handler over HTTP on 127.0.0.1, as API Gateway would in front of the function. */
export function serveApi(handler: ApiHandler, port: number): Promise<Server> {
  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    if (body === "too-large") {
      response.writeHead(413, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          status: "Failure",
          message: `request body is larger than ${MAX_REQUEST_BYTES} bytes`,
          reason: "RequestEntityTooLarge",
          code: 413,
        }),
      );
      return;
    }
    const result = await handler(toProxyEvent(request, body), localContext());
    response.writeHead(result.statusCode, result.headers as Record<string, string>);
    response.end(result.body);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}
