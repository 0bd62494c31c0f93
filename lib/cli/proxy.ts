import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { ApiClient } from "./client.js";

const FORWARDED_HEADERS = ["content-type", "x-next-token", "x-correlation-id"];

/**
 * `job-scheduler console`: a proxy on 127.0.0.1 that forwards the browser's requests to the API,
 * signing each with the caller's AWS credentials (SigV4) or adding the bearer token. A browser cannot
 * sign requests itself, so this is how a person opens the console of an API with `iamAuth: true`.
 * The console page and its API calls keep their paths: `/api/v1/...` here is `<API base>/...` there.
 */
export async function startConsoleProxy(
  client: ApiClient,
  port: number,
): Promise<{ server: Server; url: string }> {
  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    if (!url.pathname.startsWith("/api/v1/")) {
      response.writeHead(302, { location: "/api/v1/console" }).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    try {
      const answer = await client.send(
        request.method ?? "GET",
        url.pathname.slice("/api/v1".length),
        Object.fromEntries(url.searchParams),
        chunks.length ? Buffer.concat(chunks).toString("utf8") : undefined,
      );
      const headers = Object.fromEntries(
        FORWARDED_HEADERS.flatMap((name) => {
          const value = answer.headers.get(name);
          return value === null ? [] : [[name, value]];
        }),
      );
      response.writeHead(answer.status, headers).end(answer.text);
    } catch (error) {
      response.writeHead(502, { "content-type": "application/json" }).end(
        JSON.stringify({
          status: "Failure",
          message: (error as Error).message,
          reason: "BadGateway",
          code: 502,
        }),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${address.port}/api/v1/console` };
}
