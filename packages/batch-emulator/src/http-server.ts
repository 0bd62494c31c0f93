import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { BatchApiError, clientError } from "./errors.js";

/** Bodies above this are refused before parsing (SubmitJob's own limit, 30 KiB, is checked later). */
const MAX_BODY_BYTES = 1024 * 1024;

/** Handles one operation: `name` is the path segment after /v1/ (the operation lowercased). */
export type Dispatch = (name: string, input: Record<string, unknown>, bodyBytes: number) => Promise<unknown>;

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(clientError(`Request body is larger than ${MAX_BODY_BYTES} bytes`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, errorType?: string) {
  const text = JSON.stringify(body ?? {});
  response.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": randomUUID(),
    ...(errorType ? { "x-amzn-errortype": errorType } : {}),
  });
  response.end(text);
}

/**
 * The AWS Batch REST-JSON wire protocol: `POST /v1/<operation lowercased>` with a JSON body; JSON
 * answers; errors as HTTP 400/429/500 with `x-amzn-errortype` and `{"message": ...}`.
 * Listens on 127.0.0.1 only.
 */
export async function serveBatchApi(
  port: number,
  dispatch: Dispatch,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    try {
      const match = /^\/v1\/([a-z]+)\/?$/.exec((request.url ?? "").split("?")[0] ?? "");
      if (request.method !== "POST" || !match)
        throw clientError(`Unknown operation ${request.method} ${request.url}`);
      const body = await readBody(request);
      let input: unknown = {};
      if (body.length) {
        try {
          input = JSON.parse(body.toString("utf8"));
        } catch {
          throw clientError("The request body is not valid JSON");
        }
      }
      if (typeof input !== "object" || input === null || Array.isArray(input))
        throw clientError("The request body must be a JSON object");
      send(response, 200, await dispatch(match[1]!, input as Record<string, unknown>, body.length));
    } catch (error) {
      if (error instanceof BatchApiError)
        send(response, error.httpStatus, { message: error.message }, error.errorType);
      else send(response, 500, { message: (error as Error)?.message ?? String(error) }, "ServerException");
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
