import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadConfigFile } from "#lib/config/load.js";
import { startLocalStack } from "#lib/local/stack.js";
import { burstScope } from "./capacity.js";
import { CapacityMeter } from "./capacity-meter.js";

export interface DependencyRow {
  kind: "whole" | "elementwise";
  jobs: number;
  /** SubmitJob calls for the dependent. */
  dependentSubmitJobs: number;
  events: number;
  wcuPerEvent: number;
  rcuPerEvent: number;
  seconds: number;
}

/**
 * What dependsOn costs on the events path (issue 15; targets of issue 17): batch A of `jobs` jobs, and
 * B of the same size waiting for it, as a whole or elementwise, on the status-only emulator. Counts the
 * DynamoDB capacity of everything the events handler does for both batches (the judging and releasing
 * included) per event, and B's SubmitJob calls.
 */
export async function benchDependencies(jobs: number, kind: DependencyRow["kind"]): Promise<DependencyRow> {
  const dataDir = mkdtempSync(join(tmpdir(), "job-scheduler-deps-"));
  let events = 0;
  const stack = await startLocalStack({
    config: loadConfigFile("radixconfig.yaml"),
    dataDir,
    ephemeralPorts: true,
    reconcileEveryMs: 0,
    logger: new Logger({ serviceName: "bench", logLevel: "ERROR" }),
    batch: { mode: "status-only", stepDelayMs: 0 },
    wrapEventHandler: (handler) => (event) =>
      burstScope.run({}, () => {
        events += (event as { Records?: unknown[] }).Records?.length ?? 1;
        return handler(event);
      }),
  });
  const meter = new CapacityMeter();
  meter.attach(stack.clients.dynamoRaw);
  const url = Object.values(stack.urls)[0]!;
  const post = async (body: unknown) => {
    const response = await fetch(`${url}/api/v1/batches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as { name: string };
    if (response.status !== 200) throw new Error(`bench: create failed: ${JSON.stringify(answer)}`);
    return answer.name;
  };
  const jobList = Array.from({ length: jobs }, (_, i) => ({ payload: `{"i":${i}}` }));
  try {
    const started = performance.now();
    let submitsBefore = 0;
    const { totals } = await meter.measure(
      async () => {
        const a = await post({ jobScheduleDescriptions: jobList });
        submitsBefore = stack.batch.stats().SubmitJob ?? 0;
        const b = await post({
          dependsOn: [{ name: a, elementwise: kind === "elementwise" }],
          jobScheduleDescriptions: jobList,
        });
        for (;;) {
          const response = await fetch(`${url}/api/v1/batches/${b}?limit=1`);
          const body = (await response.json()) as { jobCounts?: Record<string, number> };
          if (body.jobCounts?.Succeeded === jobs) return;
          if (performance.now() - started > 1_800_000) throw new Error("bench: timed out");
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      },
      () => burstScope.getStore() !== undefined,
    );
    return {
      kind,
      jobs,
      dependentSubmitJobs: (stack.batch.stats().SubmitJob ?? 0) - submitsBefore,
      events,
      wcuPerEvent: totals.wcu / Math.max(1, events),
      rcuPerEvent: totals.rcu / Math.max(1, events),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export function printDependencies(rows: DependencyRow[]) {
  console.log("\n## dependsOn on the events path (issue 15; local stack, status-only emulator)\n");
  console.log(
    "| B waits for A | jobs each | SubmitJob for B | events (A and B) | WCU/event | RCU/event | time |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const row of rows)
    console.log(
      `| ${row.kind} | ${row.jobs} | ${row.dependentSubmitJobs} | ${row.events} | ${row.wcuPerEvent.toFixed(2)} | ${row.rcuPerEvent.toFixed(2)} | ${row.seconds.toFixed(1)} s |`,
    );
}

// `npx tsx test/bench/dependencies.ts [jobs]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const jobs = Number(process.argv[2]) || 1000;
  printDependencies([await benchDependencies(jobs, "whole"), await benchDependencies(jobs, "elementwise")]);
}
