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
  /** DynamoDB capacity of every call; the events handler's calls run inside {@link burstScope}. */
  meter: CapacityMeter;
  /** The events handler's invocations, events and time so far. */
  stats: HandlerStats;
  close(): Promise<void>;
}

/**
 * The local stack the capacity benches run on: the sample configuration, the status-only emulator, no
 * reconciler, quiet logs; every DynamoDB call metered and the events handler's calls marked and counted.
 */
export async function startBenchStack(
  name: string,
  batch: LocalStackOptions["batch"] = {},
): Promise<BenchStack> {
  const dataDir = mkdtempSync(join(tmpdir(), `job-scheduler-${name}-`));
  const stats: HandlerStats = { invocations: 0, events: 0, handlerMs: 0 };
  const stack = await startLocalStack({
    config: loadConfigFile("radixconfig.yaml"),
    dataDir,
    ephemeralPorts: true,
    reconcileEveryMs: 0,
    logger: new Logger({ serviceName: "bench", logLevel: "ERROR" }),
    batch: { mode: "status-only", stepDelayMs: 0, ...batch },
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
  const meter = new CapacityMeter();
  meter.attach(stack.clients.dynamoRaw);
  return {
    stack,
    url: Object.values(stack.urls)[0]!,
    meter,
    stats,
    close: async () => {
      await stack.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** POST /api/v1/batches; the batch's name. */
export async function createBatch(url: string, body: unknown): Promise<string> {
  const response = await fetch(`${url}/api/v1/batches`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as { name: string };
  if (response.status !== 200) throw new Error(`bench: create failed: ${JSON.stringify(answer)}`);
  return answer.name;
}

/** Polls `GET /batches/{name}?limit=1` until `jobs` jobs Succeeded. */
export async function untilAllSucceeded(
  url: string,
  name: string,
  jobs: number,
  options: { timeoutMs: number; pollMs: number },
) {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/api/v1/batches/${name}?limit=1`);
    const body = (await response.json()) as { jobCounts?: Record<string, number> };
    if (body.jobCounts?.Succeeded === jobs) return;
    if (Date.now() > deadline) throw new Error("bench: timed out");
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}
