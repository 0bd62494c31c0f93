import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { expect } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { loadConfigFile } from "#lib/config/load.js";
import type { DeploymentConfig } from "#lib/config/schema.js";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "#lib/local/stack.js";
import { ContractCheck, type OpenApiDocument } from "./contract.js";

/** A local stack for one test file: real SDK clients against dynalite, s3rver and the Batch emulator. */
export interface TestStack extends LocalStack {
  url: string;
  api: <T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; body: T; headers: Headers }>;
  stop(): Promise<void>;
}

export function sampleConfig(edit: (config: DeploymentConfig) => void = () => {}): DeploymentConfig {
  const config = loadConfigFile("radixconfig.yaml");
  edit(config);
  return config;
}

export async function startTestStack(options: Partial<LocalStackOptions> = {}): Promise<TestStack> {
  const dataDir = mkdtempSync(join(tmpdir(), "job-scheduler-test-"));
  // The stack runs in this process: a listener leak anywhere in it (e.g. one 'drain' listener per
  // waiting write, issue 14) shows up as Node's MaxListenersExceededWarning here, and stop() fails on it.
  const leaks = new Set<string>();
  const onWarning = (warning: Error) => {
    if (warning.name === "MaxListenersExceededWarning") leaks.add(warning.message);
  };
  process.on("warning", onWarning);
  const stack = await startLocalStack({
    config: sampleConfig(),
    ...options,
    dataDir,
    ephemeralPorts: true,
    logger: options.logger ?? new Logger({ serviceName: "test", logLevel: "ERROR" }),
    batch: { stepDelayMs: 10, maxConcurrentJobs: 8, ...options.batch },
  });
  const url = Object.values(stack.urls)[0]!;
  const served = await fetch(`${url}/api/v1/openapi.json`);
  const contract = new ContractCheck((await served.json()) as OpenApiDocument);
  const api = async <T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    // Every answer a test sees must be one the served OpenAPI document describes.
    const problems = contract.check(
      method,
      path,
      response.status,
      parsed,
      response.headers.get("content-type"),
    );
    expect(problems, "answer matches the OpenAPI document").toEqual([]);
    return { status: response.status, body: parsed as T, headers: response.headers };
  };
  return {
    ...stack,
    url,
    api,
    stop: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
      process.off("warning", onWarning);
      if (leaks.size)
        throw new Error(`MaxListenersExceededWarning while the stack ran: ${[...leaks].join("; ")}`);
    },
  };
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  what = "condition",
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}

export const FINAL = ["Succeeded", "Failed", "Stopped", "DeadlineExceeded"];

/** Waits until the job has a final status and returns its status object. */
export async function finalJob(stack: TestStack, name: string, timeoutMs = 30_000) {
  return eventually(
    async () => {
      const { status, body } = await stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`);
      expect(status).toBe(200);
      return FINAL.includes(body.status) ? body : undefined;
    },
    timeoutMs,
    `job ${name} to end`,
  );
}

/** The statuses a batch ends in. */
export const BATCH_ENDED = ["Succeeded", "Failed", "Stopped"];

/** Creates a batch (POST /api/v1/batches), expects 200 and returns its status object. */
export async function createBatch(stack: TestStack, body: unknown) {
  const response = await stack.api<BatchStatus>("POST", "/api/v1/batches", body);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/**
 * Waits until the batch has ended and returns its status object; `limit` asks for that many of its
 * jobStatuses (the API's default page is shorter than a big batch).
 */
export async function finalBatch(
  stack: TestStack,
  name: string,
  { timeoutMs = 60_000, limit }: { timeoutMs?: number; limit?: number } = {},
) {
  const query = limit === undefined ? "" : `?limit=${limit}`;
  return eventually(
    async () => {
      const { body } = await stack.api<BatchStatus>("GET", `/api/v1/batches/${name}${query}`);
      return BATCH_ENDED.includes(body.status) ? body : undefined;
    },
    timeoutMs,
    `batch ${name} to end`,
  );
}

/** A webhook receiver on 127.0.0.1. */
export interface WebhookReceiver {
  url: string;
  close(): Promise<void>;
}

/** Starts a receiver whose `answer` gets each POSTed JSON body and returns the HTTP status to reply with. */
export async function startWebhookReceiver(answer: (body: unknown) => number): Promise<WebhookReceiver> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => {
      response.writeHead(answer(JSON.parse(Buffer.concat(chunks).toString()))).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
