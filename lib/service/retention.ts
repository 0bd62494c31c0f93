import { allEnded, batchStatusOf } from "../domain/aggregate.js";
import type { BatchType } from "../store/job-store.js";
import { deleteWhole } from "./control.js";
import { type BatchDeps, componentSettings } from "./deps.js";
import { summariesOf } from "./queries.js";
import { batchFactsOf, countsOf } from "./views.js";

/**
 * Radix's history rule, per job component and kind (single jobs, batches): keep the `succeeded` latest
 * Succeeded and the `failed` latest Failed ones (defaults 10 and 10), delete older ones with their
 * payloads; a job or batch created with `ttlAfterFinish` is instead deleted that many seconds after it
 * ended. It walks the component's listing index newest first (a Query, never a scan) and stops at
 * what it may keep; records also carry a DynamoDB TTL (`maxAgeDays`) as the upper bound.
 */
export async function enforceRetention(
  deps: BatchDeps,
  componentName: string,
  batchType: BatchType,
): Promise<number> {
  const { retention, batchStatusRules } = componentSettings(deps, componentName);
  const kept = { Succeeded: 0, Failed: 0 };
  let deleted = 0;
  let nextToken: string | undefined;
  do {
    const page = await deps.store.listBatches(componentName, batchType, { limit: 100, nextToken });
    for (const batch of page.items) {
      const shards = await summariesOf(deps, batch);
      const facts = batchFactsOf(batch, countsOf(shards));
      if (!allEnded(facts)) continue;
      if (batch.ttlAfterFinish !== undefined) {
        // Its own ttlAfterFinish replaces the count rule: deleted that long after its last job ended.
        const ended = Math.max(batch.created, ...shards.map((shard) => shard.ended ?? 0));
        if (deps.now() >= ended + batch.ttlAfterFinish * 1000) {
          await deleteWhole(deps, batch);
          deleted++;
        }
        continue;
      }
      const status = batchStatusOf(facts, batchStatusRules);
      // Stopped and DeadlineExceeded count with the failures, as Kubernetes keeps them (failedJobsHistoryLimit).
      const bucket = status === "Succeeded" ? "Succeeded" : "Failed";
      const limit = bucket === "Succeeded" ? retention.succeeded : retention.failed;
      if (kept[bucket] < limit) {
        kept[bucket]++;
        continue;
      }
      await deleteWhole(deps, batch);
      deleted++;
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return deleted;
}
