import type { LogChunk } from "../../api/log-chunk.js";
import type { BatchStatus, JobStatus, Status } from "../../api/schemas.js";

export type { BatchStatus, JobStatus, LogChunk, Status };

/** An answer that was not a success: the Radix Status object's message, or the HTTP status. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

const TOKEN_KEY = "job-scheduler-token";

/**
 * The public API routes, relative to where the console is served: `<base>/console` → `<base>/jobs`, so
 * the console works behind any stage prefix (`/prod/api/v1/console`) and through a signing proxy.
 */
export class Api {
  readonly base: string;

  constructor(consolePath = location.pathname) {
    this.base = consolePath.replace(/\/console\/?$/, "");
  }

  /** The local stack's bearer token (auth.localTokens), kept in this browser only. */
  get token(): string {
    return localStorage.getItem(TOKEN_KEY) ?? "";
  }
  set token(value: string) {
    if (value) localStorage.setItem(TOKEN_KEY, value);
    else localStorage.removeItem(TOKEN_KEY);
  }

  async call<T>(
    method: "GET" | "POST",
    path: string,
    query: Record<string, string | number | undefined> = {},
  ): Promise<{ body: T; headers: Headers }> {
    const url = new URL(`${this.base}${path}`, location.href);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== "") url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(url, { method, headers });
    const text = await response.text();
    let body: unknown = text;
    if (response.headers.get("content-type")?.includes("application/json")) body = JSON.parse(text);
    if (!response.ok) {
      const message = (body as Partial<Status>)?.message ?? `${response.status} ${response.statusText}`;
      throw new ApiError(message, response.status);
    }
    return { body: body as T, headers: response.headers };
  }

  async list<T>(kind: "jobs" | "batches", query: Record<string, string | number | undefined>) {
    const { body, headers } = await this.call<T[]>("GET", `/${kind}`, query);
    return { items: body, nextToken: headers.get("x-next-token") ?? undefined };
  }

  batch(name: string, limit: number, nextToken?: string) {
    return this.call<BatchStatus>("GET", `/batches/${encodeURIComponent(name)}`, { limit, nextToken });
  }

  job(name: string) {
    return this.call<JobStatus>("GET", `/jobs/${encodeURIComponent(name)}`);
  }

  logs(name: string, query: { cursor?: string; tail?: number; attempt?: number }) {
    return this.call<LogChunk>("GET", `/jobs/${encodeURIComponent(name)}/logs/follow`, query);
  }

  /** Stop or restart (the API's own routes and access rules); `all` restarts a batch's Succeeded jobs too. */
  act(kind: "jobs" | "batches", name: string, action: "stop" | "restart", all = false) {
    return this.call<Status | JobStatus | BatchStatus>(
      "POST",
      `/${kind}/${encodeURIComponent(name)}/${action}`,
      all ? { all: "true" } : {},
    );
  }
}
