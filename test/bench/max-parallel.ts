import { performance } from "node:perf_hooks";
import { specKey } from "#lib/domain/effective-spec.js";
import { burstScope, createBatch, startBenchStack, untilAllSucceeded } from "./bench-stack.js";

export interface MaxParallelRow {
  jobs: number;
  maxParallel: number;
  /** Distinct effective specs of the batch, and AWS Batch submissions (array jobs) made for it. */
  specGroups: number;
  submitJobCalls: number;
  /** What every SubmitJob named in consumableResourcePropertiesOverride (resource × quantity). */
  resourcesNamed: string[];
  events: number;
  wcuPerEvent: number;
  rcuPerEvent: number;
  /** Creation (request and submission): DynamoDB units and Batch calls other than SubmitJob. */
  creationWcu: number;
  allSucceededMs: number;
}

/**
 * Issue 15's bench: a 10,000-job batch with `maxParallel: 100` on the local stack (status-only
 * emulator: every job walks its statuses and succeeds at once; that mode does not hold jobs for consumable
 * resources, which test/integration/max-parallel.test.ts checks in run mode). Counts SubmitJob
 * calls (one per spec group: the cap adds none) and the events handler's DynamoDB capacity per event
 * (ReturnConsumedCapacity, as bench:capacity measures it).
 */
export async function benchMaxParallel(jobs = 10_000, maxParallel = 100): Promise<MaxParallelRow> {
  const { stack, url, meter, stats, close } = await startBenchStack("maxparallel", {
    batch: { maxConcurrentJobs: 100_000 },
  });
  const named = new Set<string>();
  stack.clients.batchSubmit.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as {
        consumableResourcePropertiesOverride?: {
          consumableResourceList?: { consumableResource?: string; quantity?: number }[];
        };
      };
      const list = input.consumableResourcePropertiesOverride?.consumableResourceList ?? [];
      named.add(list.map((item) => `${item.consumableResource} ×${item.quantity}`).join(", ") || "none");
      return next(args);
    },
    { step: "initialize", name: "bench-consumable-resources" },
  );
  try {
    const submitsBefore = stack.batch.stats().SubmitJob ?? 0;
    const started = performance.now();
    const created = await meter.measure(
      () =>
        createBatch(url, {
          maxParallel,
          jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({ payload: `{"i":${i}}` })),
        }),
      () => burstScope.getStore() === undefined,
    );
    const name = created.result;
    const { totals } = await meter.measure(
      () => untilAllSucceeded(url, name, jobs, { timeoutMs: 3_600_000, pollMs: 250 }),
      () => burstScope.getStore() !== undefined,
    );
    const groups = await stack.deps.store.listGroups(name);
    return {
      jobs,
      maxParallel,
      specGroups: new Set(groups.map((group) => specKey(group.spec))).size,
      submitJobCalls: (stack.batch.stats().SubmitJob ?? 0) - submitsBefore,
      resourcesNamed: [...named],
      events: stats.events,
      wcuPerEvent: totals.wcu / Math.max(1, stats.events),
      rcuPerEvent: totals.rcu / Math.max(1, stats.events),
      creationWcu: created.totals.wcu,
      allSucceededMs: performance.now() - started,
    };
  } finally {
    await close();
  }
}

export function printMaxParallel(row: MaxParallelRow) {
  console.log("\n## maxParallel (issue 15; local stack, status-only emulator)\n");
  console.log(
    "| jobs | maxParallel | spec groups | SubmitJob calls | SubmitJob per spec group | resources named per SubmitJob | events | WCU/event | RCU/event | creation WCU | all Succeeded |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  console.log(
    `| ${row.jobs} | ${row.maxParallel} | ${row.specGroups} | ${row.submitJobCalls} | ${(row.submitJobCalls / row.specGroups).toFixed(2)} | ${row.resourcesNamed.join("; ")} | ${row.events} | ${row.wcuPerEvent.toFixed(2)} | ${row.rcuPerEvent.toFixed(2)} | ${row.creationWcu.toFixed(0)} | ${(row.allSucceededMs / 1000).toFixed(1)} s |`,
  );
}

// `npx tsx test/bench/max-parallel.ts [jobs] [maxParallel]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const [jobs, maxParallel] = process.argv.slice(2).map(Number);
  printMaxParallel(await benchMaxParallel(jobs || 10_000, maxParallel || 100));
}
