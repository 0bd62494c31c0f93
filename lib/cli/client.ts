import type { z } from "zod";
import { type LogChunk, logChunkSchema } from "../api/log-chunk.js";
import {
  type BatchScheduleDescription,
  type BatchStatus,
  batchStatusSchema,
  type JobScheduleDescription,
  type JobStatus,
  jobStatusSchema,
  type Status,
  statusSchema,
} from "../api/schemas.js";
import type { RequestSigner } from "./sign.js";

/** An answer that is not a success, with the API's Status message. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** Base URL of a component's API, with or without the trailing `/api/v1`. */
  url: string;
  /** Bearer token (the local stack's auth.localTokens). */
  token?: string;
  /** SigV4 signer (`--iam`). */
  signer?: RequestSigner;
  /** VPC endpoint DNS names need the API's id in this header (x-apigw-api-id). */
  apiId?: string;
}

export type Query = Record<string, string | number | boolean | undefined>;

/** `https://x/prod` and `https://x/prod/api/v1/` both mean `https://x/prod/api/v1`. */
export function apiBase(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith("/api/v1") ? trimmed : `${trimmed}/api/v1`;
}

/**
 * The public API, typed and checked with the schemas that define it (lib/api): answers that do not
 * parse are reported, never half-shown. `raw` keeps the body as sent, for `--json`.
 */
export class ApiClient {
  readonly base: string;

  constructor(private readonly options: ClientOptions) {
    this.base = apiBase(options.url);
  }

  /** Sends one request (signed with `--iam`) and returns the answer as it came, whatever its status. */
  async send(
    method: string,
    path: string,
    query: Query = {},
    text?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string; headers: Headers }> {
    const url = new URL(`${this.base}${path}`);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") url.searchParams.set(name, String(value));
    }
    let outgoing: Record<string, string> = { accept: "application/json", ...headers };
    if (text !== undefined) outgoing["content-type"] = "application/json";
    if (this.options.token) outgoing.authorization = `Bearer ${this.options.token}`;
    if (this.options.apiId) outgoing["x-apigw-api-id"] = this.options.apiId;
    if (this.options.signer) {
      outgoing = await this.options.signer({ method, url, headers: outgoing, body: text });
    }
    // fetch sets Host itself, from the URL: the value that was signed.
    const { host: _host, ...sent } = outgoing;
    let response: Response;
    try {
      response = await fetch(url, { method, headers: sent, body: text });
    } catch (error) {
      const cause = (error as Error).cause;
      throw new ApiError(
        `cannot reach ${this.base}: ${cause instanceof Error ? cause.message : String(error)}`,
        0,
      );
    }
    return { status: response.status, text: await response.text(), headers: response.headers };
  }

  /** Sends a request and parses its JSON answer; a non-2xx answer throws with the API's message. */
  async request(
    method: string,
    path: string,
    query: Query = {},
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ body: unknown; headers: Headers }> {
    const answer = await this.send(
      method,
      path,
      query,
      body === undefined ? undefined : JSON.stringify(body),
      headers,
    );
    let parsed: unknown = answer.text;
    if (answer.headers.get("content-type")?.includes("application/json")) {
      try {
        parsed = JSON.parse(answer.text);
      } catch {
        // keep the text
      }
    }
    if (answer.status < 200 || answer.status > 299) {
      const message = (parsed as Partial<Status>)?.message ?? (answer.text.slice(0, 300) || "no message");
      throw new ApiError(`${answer.status}: ${message}`, answer.status);
    }
    return { body: parsed, headers: answer.headers };
  }

  private async typed<S extends z.ZodType>(
    schema: S,
    method: string,
    path: string,
    query?: Query,
    body?: unknown,
    headers?: Record<string, string>,
  ) {
    const answer = await this.request(method, path, query, body, headers);
    const result = schema.safeParse(answer.body);
    if (!result.success) {
      throw new ApiError(
        `${method} ${path}: the answer is not what the API documents (${result.error.message})`,
        0,
      );
    }
    return { value: result.data as z.infer<S>, raw: answer.body, headers: answer.headers };
  }

  createJob(body: JobScheduleDescription, idempotencyKey?: string) {
    return this.typed(jobStatusSchema, "POST", "/jobs", {}, body, idempotencyHeader(idempotencyKey));
  }

  createBatch(body: BatchScheduleDescription, idempotencyKey?: string) {
    return this.typed(batchStatusSchema, "POST", "/batches", {}, body, idempotencyHeader(idempotencyKey));
  }

  job(name: string) {
    return this.typed(jobStatusSchema, "GET", `/jobs/${encodeURIComponent(name)}`);
  }

  batch(name: string, page: { limit?: number; nextToken?: string } = {}) {
    return this.typed(batchStatusSchema, "GET", `/batches/${encodeURIComponent(name)}`, page);
  }

  async list(kind: "jobs", query: Query): Promise<Listing<JobStatus>>;
  async list(kind: "batches", query: Query): Promise<Listing<BatchStatus>>;
  async list(kind: "jobs" | "batches", query: Query): Promise<Listing<JobStatus | BatchStatus>> {
    const item = kind === "jobs" ? jobStatusSchema : batchStatusSchema;
    const { value, raw, headers } = await this.typed(item.array(), "GET", `/${kind}`, query);
    return { items: value, raw: raw as unknown[], nextToken: headers.get("x-next-token") ?? undefined };
  }

  async logs(name: string, query: { tail?: number; attempt?: number }): Promise<string> {
    const { body } = await this.request("GET", `/jobs/${encodeURIComponent(name)}/logs`, query);
    return String(body);
  }

  async follow(name: string, query: { cursor?: string; tail?: number; attempt?: number }): Promise<LogChunk> {
    return (await this.typed(logChunkSchema, "GET", `/jobs/${encodeURIComponent(name)}/logs/follow`, query))
      .value;
  }

  /** POST /{jobs|batches}/{name}/{stop|restart}: a Status for a stop, the status object for a restart. */
  act(kind: "jobs" | "batches", name: string, action: "stop" | "restart", query: Query = {}) {
    const path = `/${kind}/${encodeURIComponent(name)}/${action}`;
    if (action === "stop") return this.typed(statusSchema, "POST", path, query);
    return this.typed(kind === "jobs" ? jobStatusSchema : batchStatusSchema, "POST", path, query);
  }
}

export interface Listing<T> {
  items: T[];
  raw: unknown[];
  nextToken?: string;
}

const idempotencyHeader = (key: string | undefined): Record<string, string> =>
  key ? { "Idempotency-Key": key } : {};
