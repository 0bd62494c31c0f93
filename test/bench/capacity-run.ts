import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadConfigFile } from "#lib/config/load.js";
import { startLocalStack } from "#lib/local/stack.js";
import { benchBurst, benchTrickle, burstScope, type CapacityRow, type HandlerStats } from "./capacity.js";
import { CapacityMeter } from "./capacity-meter.js";
import { PRICES } from "./prices.js";

/**
 * Issue 17's measurement: DynamoDB capacity units per event and per job, for trickle and burst
 * arrival, at 10, 1,000 and 10,000 jobs (`npm run bench:capacity -- 10 1000` narrows the sizes).
 */
export async function benchCapacity(sizes: number[]): Promise<CapacityRow[]> {
  const dataDir = mkdtempSync(join(tmpdir(), "job-scheduler-capacity-"));
  const stats: HandlerStats = { invocations: 0, events: 0, handlerMs: 0 };
  const stack = await startLocalStack({
    config: loadConfigFile("radixconfig.yaml"),
    dataDir,
    ephemeralPorts: true,
    reconcileEveryMs: 0,
    logger: new Logger({ serviceName: "bench", logLevel: "ERROR" }),
    batch: { mode: "status-only", stepDelayMs: 0 },
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
  const url = Object.values(stack.urls)[0]!;
  const allSucceeded = async (name: string, jobs: number) => {
    const deadline = Date.now() + 3_600_000;
    for (;;) {
      const response = await fetch(`${url}/api/v1/batches/${name}?limit=1`);
      const body = (await response.json()) as { jobCounts?: Record<string, number> };
      if (body.jobCounts?.Succeeded === jobs) return;
      if (Date.now() > deadline) throw new Error("bench: timed out");
      await new Promise((resolve) => setTimeout(resolve, jobs > 1000 ? 1000 : 200));
    }
  };
  try {
    const rows: CapacityRow[] = [];
    for (const jobs of sizes) {
      rows.push(await benchTrickle(stack, meter, jobs));
      console.error(`capacity: trickle ${jobs} done`);
    }
    for (const jobs of sizes) {
      const row = await benchBurst(stack, meter, jobs, stats, allSucceeded);
      console.error(
        `capacity: burst ${jobs} done (creation ${row.creation.wcu.toFixed(0)} WCU in ${row.creation.calls} calls)`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function printCapacity(rows: CapacityRow[]) {
  console.log("\n## DynamoDB capacity (ReturnConsumedCapacity, local stack)\n");
  console.log(
    "| arrival | batch | jobs driven | events | WCU/event | RCU/event | WCU/job | RCU/job | largest write | jobs per key | cost per 1M jobs |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const row of rows) {
    console.log(
      `| ${row.arrival} | ${row.batchJobs} | ${row.jobs} | ${row.events} | ${row.wcuPerEvent.toFixed(2)} | ${row.rcuPerEvent.toFixed(2)} | ${row.wcuPerJob.toFixed(2)} | ${row.rcuPerJob.toFixed(2)} | ${row.largestWrite.toFixed(0)} WCU | ${row.jobsPerKey} | $${row.costPerMillionJobs.toFixed(2)} |`,
    );
  }
  console.log(
    `\nPrices: ${PRICES.region}, ${PRICES.asOf} (test/bench/prices.ts). Cost covers DynamoDB, SQS, EventBridge product events and the batch-events Lambda (requests and GB-seconds at the handler time measured here).`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  printCapacity(await benchCapacity(args.length ? args : [10, 1_000, 10_000]));
}
