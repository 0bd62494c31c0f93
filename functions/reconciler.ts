import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { DEFAULT_RECONCILE_OPTIONS, reconcile } from "../lib/service/reconcile.js";
import { createServiceDeps } from "../lib/wiring/aws-deps.js";

/** Scheduled (EventBridge Scheduler/rule): repairs missed events, ends jobs past their deadline. */
const deps = createServiceDeps(runtimeConfigFromEnv());
const options = {
  staleAfterMs: Number(process.env.RECONCILE_STALE_AFTER_MS ?? DEFAULT_RECONCILE_OPTIONS.staleAfterMs),
  resumeAfterMs: Number(process.env.RECONCILE_RESUME_AFTER_MS ?? DEFAULT_RECONCILE_OPTIONS.resumeAfterMs),
};

export const handler = async () => {
  const report = await reconcile(deps, options).finally(() => deps.metrics?.flush());
  deps.logger.info("reconciled", { ...report });
  return report;
};
