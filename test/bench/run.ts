import { benchBatches } from "./batches.js";
import { benchBundles } from "./bundles.js";
import { benchCapacity, printCapacity } from "./capacity-run.js";
import { benchDependencies, printDependencies } from "./dependencies.js";
import { benchMaxParallel, printMaxParallel } from "./max-parallel.js";
import { benchStop, printStop } from "./stop.js";

/**
 * `npm run bench` (never part of `npm test`). Sizes can be narrowed for a quick look:
 * `npm run bench -- 10 1000` runs only those batch sizes (naive runs for sizes ≤ 10,000 among them).
 */
const args = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0);
const sizes = args.length ? args : [10, 1_000, 10_000, 100_000];
const naiveSizes = sizes.filter((n) => n === 1_000 || n === 10_000);

const fmt = (ms: number | undefined) =>
  ms === undefined ? "-" : ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
const callList = (calls: Record<string, number>) =>
  Object.entries(calls)
    .sort()
    .map(([name, n]) => `${name}=${n}`)
    .join(" ");

const { rows, events } = await benchBatches(sizes, naiveSizes);
console.log("\n## Batches (local stack, status-only AWS Batch emulator)\n");
console.log(
  "| jobs | way | array jobs | HTTP answer | all submitted | all Succeeded | counts exact | calls by AWS API |",
);
console.log("|---:|---|---:|---:|---:|---:|---|---|");
for (const row of rows) {
  console.log(
    `| ${row.jobs} | ${row.way} | ${row.arrayJobs ?? "-"} | ${fmt(row.answerMs)} | ${fmt(row.submittedMs)} | ${fmt(row.allSucceededMs)} | ${row.countsExact ?? "-"} | ${callList(row.calls)} |`,
  );
}
for (const jobs of naiveSizes) {
  const ours = rows.find((row) => row.jobs === jobs && row.way === "array");
  const naive = rows.find((row) => row.jobs === jobs && row.way === "naive");
  if (!ours || !naive) continue;
  const ratio = (name: string) => (naive.calls[name] ?? 0) / Math.max(1, ours.calls[name] ?? 0);
  console.log(
    `\n${jobs} jobs, naive ÷ ours: SubmitJob ${ratio("Batch:SubmitJob").toFixed(0)}×, S3 PutObject ${ratio("S3:PutObject").toFixed(0)}×, ` +
      `DynamoDB writes ${((naive.calls["DynamoDB:PutItem"] ?? 0) / Math.max(1, (ours.calls["DynamoDB:BatchWriteItem"] ?? 0) + (ours.calls["DynamoDB:UpdateItem"] ?? 0) + (ours.calls["DynamoDB:PutItem"] ?? 0))).toFixed(0)}×, ` +
      `time to all submitted ${(naive.submittedMs / ours.submittedMs).toFixed(1)}×`,
  );
}
console.log("\n## State events\n");
console.log("| batch size | events | DynamoDB ops per event | time per event |");
console.log("|---:|---:|---:|---:|");
for (const row of events) {
  console.log(
    `| ${row.jobs} | ${row.events} | ${row.dynamoOpsPerEvent.toFixed(2)} | ${row.msPerEvent.toFixed(2)} ms |`,
  );
}
const small = events.find((row) => row.jobs === 10);
const large = events.find((row) => row.jobs === 10_000);
if (small && large)
  console.log(
    `\ntime per event, 10,000-job ÷ 10-job batch: ${(large.msPerEvent / small.msPerEvent).toFixed(2)}×`,
  );

const bundles = await benchBundles();
console.log("\n## Lambda bundles (esbuild, node22, minified)\n");
console.log("| function | bundle size | module init |");
console.log("|---|---:|---:|");
for (const bundle of bundles)
  console.log(
    `| ${bundle.name} | ${(bundle.bytes / 1024).toFixed(0)} KiB | ${bundle.initMs.toFixed(0)} ms |`,
  );

printCapacity(await benchCapacity(sizes.filter((n) => n <= 10_000)));
printStop(await benchStop(sizes.filter((n) => n >= 10_000)));
if (sizes.includes(10_000)) printMaxParallel(await benchMaxParallel(10_000, 100));
if (sizes.includes(1_000))
  printDependencies([await benchDependencies(1_000, "whole"), await benchDependencies(1_000, "elementwise")]);
