import { performance } from "node:perf_hooks";
import { burstScope, createBatch, startBenchStack, untilAllSucceeded } from "./bench-stack.js";

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
  const { stack, url, meter, stats, close } = await startBenchStack("deps");
  const post = (body: unknown) => createBatch(url, body);
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
        await untilAllSucceeded(url, b, jobs, { timeoutMs: 1_800_000, pollMs: 250 });
      },
      () => burstScope.getStore() !== undefined,
    );
    return {
      kind,
      jobs,
      dependentSubmitJobs: (stack.batch.stats().SubmitJob ?? 0) - submitsBefore,
      events: stats.events,
      wcuPerEvent: totals.wcu / Math.max(1, stats.events),
      rcuPerEvent: totals.rcu / Math.max(1, stats.events),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await close();
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
