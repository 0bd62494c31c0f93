import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** What the verifier concluded about one request. */
export interface Verdict {
  method: string;
  path: string;
  valid: boolean;
  problem?: string;
  service?: string;
  region?: string;
  signedHeaders?: string[];
}

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
const encode = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Checks a request's SigV4 signature the way AWS does, written independently of the signer under test
 * (node:crypto only, from the published algorithm:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html).
 */
export function verifySigV4(
  request: IncomingMessage,
  body: Buffer,
  secrets: Record<string, string>,
): Omit<Verdict, "method" | "path"> {
  const authorization = request.headers.authorization ?? "";
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) return { valid: false, problem: `no SigV4 Authorization header: '${authorization}'` };
  const [, keyId, day, region, service, signedList, signature] = match as unknown as string[];
  const secret = secrets[keyId!];
  if (!secret) return { valid: false, problem: `unknown access key ${keyId}` };
  const amzDate = String(request.headers["x-amz-date"] ?? "");
  if (!amzDate.startsWith(day!))
    return { valid: false, problem: "x-amz-date does not match the scope's day" };
  const signedHeaders = signedList!.split(";");
  if (!signedHeaders.includes("host") || !signedHeaders.includes("x-amz-date")) {
    return { valid: false, problem: "host and x-amz-date must be signed" };
  }
  const url = new URL(request.url ?? "/", "http://verifier");
  const canonicalUri = url.pathname
    .split("/")
    .map((segment) => encode(encode(decodeURIComponent(segment))))
    .join("/");
  const canonicalQuery = [...url.searchParams]
    .map(([name, value]) => [encode(name), encode(value)])
    .sort(([a, av], [b, bv]) => (a === b ? (av! < bv! ? -1 : 1) : a! < b! ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalHeaders = signedHeaders
    .map((name) => {
      const value = request.headers[name];
      return `${name}:${String(Array.isArray(value) ? value.join(",") : (value ?? ""))
        .trim()
        .replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const canonicalRequest = [
    request.method,
    canonicalUri,
    canonicalQuery,
    canonicalHeaders,
    signedList,
    sha256(body),
  ].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  let key: Buffer = hmac(`AWS4${secret}`, day!);
  for (const part of [region!, service!, "aws4_request"]) key = hmac(key, part);
  const expected = createHmac("sha256", key).update(stringToSign).digest("hex");
  return {
    valid: expected === signature,
    ...(expected === signature ? {} : { problem: "signature does not match" }),
    service: service!,
    region: region!,
    signedHeaders,
  };
}

/** An HTTP server on 127.0.0.1 that answers only correctly signed requests (403 otherwise). */
export async function startSigV4Verifier(secrets: Record<string, string>, answer: (path: string) => unknown) {
  const verdicts: Verdict[] = [];
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const verdict = {
      method: request.method ?? "",
      path: request.url ?? "",
      ...verifySigV4(request, Buffer.concat(chunks), secrets),
    };
    verdicts.push(verdict);
    const [status, body] = verdict.valid
      ? [200, answer(verdict.path)]
      : [403, { status: "Failure", message: verdict.problem, reason: "Forbidden", code: 403 }];
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    verdicts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
