import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadConfigFile } from "#lib/config/load.js";
import { specKey } from "#lib/domain/effective-spec.js";
import { startLocalStack } from "#lib/local/stack.js";
import { burstScope } from "./capacity.js";
import { CapacityMeter } from "./capacity-meter.js";

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
  const dataDir = mkdtempSync(join(tmpdir(), "job-scheduler-maxparallel-"));
  let events = 0;
  const stack = await startLocalStack({
    config: loadConfigFile("radixconfig.yaml"),
    dataDir,
    ephemeralPorts: true,
    reconcileEveryMs: 0,
    logger: new Logger({ serviceName: "bench", logLevel: "ERROR" }),
    batch: { mode: "status-only", stepDelayMs: 0, maxConcurrentJobs: 100_000 },
    wrapEventHandler: (handler) => (event) =>
      burstScope.run({}, () => {
        events += (event as { Records?: unknown[] }).Records?.length ?? 1;
        return handler(event);
      }),
  });
  const meter = new CapacityMeter();
  meter.attach(stack.clients.dynamoRaw);
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
  const url = Object.values(stack.urls)[0]!;
  try {
    const submitsBefore = stack.batch.stats().SubmitJob ?? 0;
    const started = performance.now();
    const created = await meter.measure(
      async () => {
        const response = await fetch(`${url}/api/v1/batches`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            maxParallel,
            jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({ payload: `{"i":${i}}` })),
          }),
        });
        const answer = (await response.json()) as { name: string };
        if (response.status !== 200) throw new Error(`bench: create failed: ${JSON.stringify(answer)}`);
        return answer.name;
      },
      () => burstScope.getStore() === undefined,
    );
    const name = created.result;
    const { totals } = await meter.measure(
      async () => {
        for (;;) {
          const response = await fetch(`${url}/api/v1/batches/${name}?limit=1`);
          const body = (await response.json()) as { jobCounts?: Record<string, number> };
          if (body.jobCounts?.Succeeded === jobs) return;
          if (performance.now() - started > 3_600_000) throw new Error("bench: timed out");
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      },
      () => burstScope.getStore() !== undefined,
    );
    const groups = await stack.deps.store.listGroups(name);
    return {
      jobs,
      maxParallel,
      specGroups: new Set(groups.map((group) => specKey(group.spec))).size,
      submitJobCalls: (stack.batch.stats().SubmitJob ?? 0) - submitsBefore,
      resourcesNamed: [...named],
      events,
      wcuPerEvent: totals.wcu / Math.max(1, events),
      rcuPerEvent: totals.rcu / Math.max(1, events),
      creationWcu: created.totals.wcu,
      allSucceededMs: performance.now() - started,
    };
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
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
