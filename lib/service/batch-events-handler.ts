import type { ServiceDeps } from "./deps.js";
import { batchStateChangeEventSchema, recordStateChange } from "./record-state-change.js";

/**
 * Adapts an EventBridge "Batch Job State Change" event to {@link recordStateChange}. A malformed event is
 * logged and dropped (retrying cannot fix it); a failed write throws so EventBridge retries it.
 */
export function createBatchEventsHandler(deps: ServiceDeps) {
  return async (event: unknown) => {
    const parsed = batchStateChangeEventSchema.safeParse(event);
    if (!parsed.success) {
      deps.logger.warn("not a Batch Job State Change event; dropped", { issues: parsed.error.issues.length });
      return { outcome: "ignored" as const };
    }
    const { detail } = parsed.data;
    const outcome = await recordStateChange(deps, detail);
    deps.logger.debug("state change", { jobId: detail.jobId, status: detail.status, outcome });
    return { outcome };
  };
}
