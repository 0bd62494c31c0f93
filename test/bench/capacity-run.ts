import { startBenchStack } from "./bench-stack.js";
import { benchBurst, benchTrickle, type CapacityRow } from "./capacity.js";
import { PRICES } from "./prices.js";

/**
 * Issue 17's measurement: DynamoDB capacity units per event and per job, for trickle and burst
 * arrival, at 10, 1,000 and 10,000 jobs (`npm run bench:capacity -- 10 1000` narrows the sizes).
 */
export async function benchCapacity(sizes: number[]): Promise<CapacityRow[]> {
  const { stack, meter, stats, close } = await startBenchStack("capacity");
  try {
    const rows: CapacityRow[] = [];
    for (const jobs of sizes) {
      rows.push(await benchTrickle(stack, meter, jobs));
      console.error(`capacity: trickle ${jobs} done`);
    }
    for (const jobs of sizes) {
      const row = await benchBurst(stack, meter, jobs, stats);
      console.error(
        `capacity: burst ${jobs} done (creation ${row.creation.wcu.toFixed(0)} WCU in ${row.creation.calls} calls)`,
      );
      rows.push(row);
    }
    return rows;
  } finally {
    await close();
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
