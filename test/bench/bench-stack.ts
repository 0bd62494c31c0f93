import { AsyncLocalStorage } from "node:async_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadConfigFile } from "#lib/config/load.js";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "#lib/local/stack.js";
import { CapacityMeter } from "./capacity-meter.js";

/** Marks the events handler's calls (the bench's own polling is not counted). */
export const burstScope = new AsyncLocalStorage<object>();

export interface HandlerStats {
  invocations: number;
  events: number;
  handlerMs: number;
}

export interface BenchStack {
  stack: LocalStack;
  /** The first component's API. */
  url: string;
  /**
   * DynamoDB capacity of every call (none with `metered: false`); the events handler's calls run inside
   * {@link burstScope}.
   */
  meter: CapacityMeter;
  /** The events handler's invocations, events and time so far. */
  stats: HandlerStats;
  close(): Promise<void>;
}

export interface BenchStackOptions {
  /** The emulator's options over the bench's (status-only, no step delay). */
  batch?: LocalStackOptions["batch"];
  /**
   * Whether the meter asks DynamoDB for the capacity of every call (ReturnConsumedCapacity). Benches
   * that only time calls turn it off, so that nothing is added to the calls they time; their meter
   * then counts nothing.
   */
  metered?: boolean;
}

/**
 * The local stack the benches run on: the sample configuration, the status-only emulator, no
 * reconciler, quiet logs; every DynamoDB call metered (unless `metered: false`) and the events
 * handler's calls marked ({@link burstScope}) and counted.
 */
export async function startBenchStack(name: string, options: BenchStackOptions = {}): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `job-scheduler-${name}-`));
  const stats: HandlerStats = { invocations: 0, events: 0, handlerMs: 0 };
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  let stack: LocalStack;
  try {
    stack = await startLocalStack({
      config: loadConfigFile("radixconfig.yaml"),
      dataDir,
      ephemeralPorts: true,
      reconcileEveryMs: 0,
      logger: new Logger({ serviceName: "bench", logLevel: "ERROR" }),
      batch: { mode: "status-only", stepDelayMs: 0, ...options.batch },
      wrapEventHandler: (handler) => (event) =>
        burstScope.run({}, async () => {
          const started = performance.now();
          try {
            return await handler(event);
          } finally {
            stats.invocations++;
            stats.events += (event as { Records?: unknown[] }).Records?.length ?? 1;
            stats.handlerMs += performance.now() - started;
          }
        }),
    });
  } catch (error) {
    removeDataDir();
    throw error;
  }
  const meter = new CapacityMeter();
  if (options.metered !== false) meter.attach(stack.clients.dynamoRaw);
  return {
    stack,
    url: Object.values(stack.urls)[0]!,
    meter,
    stats,
    close: async () => {
      await stack.close();
      removeDataDir();
    },
  };
}

/**
 * POST /api/v1/batches; the batch's name. A body given as a string is sent as it is (serialised
 * beforehand, so that a bench timing the call times only the request).
 */
export async function createBatch(url: string, body: unknown): Promise<string> {
  const response = await fetch(`${url}/api/v1/batches`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const answer = (await response.json()) as { name: string };
  if (response.status !== 200) throw new Error(`bench: create failed: ${JSON.stringify(answer)}`);
  return answer.name;
}

/** The part of `GET /batches/{name}` the benches read. */
export interface BatchPage {
  status: string;
  jobCounts?: Record<string, number>;
}

/**
 * Polls `GET /batches/{name}?limit=1` until `done` says yes to its answer; that answer and how long its
 * request took.
 */
export async function untilBatch(
  url: string,
  name: string,
  done: (page: BatchPage) => boolean,
  options: { timeoutMs: number; pollMs: number },
): Promise<{ page: BatchPage; pageMs: number }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const started = performance.now();
    const page = (await (await fetch(`${url}/api/v1/batches/${name}?limit=1`)).json()) as BatchPage;
    const pageMs = performance.now() - started;
    if (done(page)) return { page, pageMs };
    if (Date.now() > deadline) throw new Error(`bench: batch ${name} timed out`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}

/** Polls `GET /batches/{name}?limit=1` until `jobs` jobs Succeeded. */
export async function untilAllSucceeded(
  url: string,
  name: string,
  jobs: number,
  options: { timeoutMs: number; pollMs: number },
) {
  await untilBatch(url, name, (page) => page.jobCounts?.Succeeded === jobs, options);
}
