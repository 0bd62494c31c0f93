import type { Context } from "aws-lambda";
import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { invocationDeps } from "../lib/observability/correlation.js";
import { DEFAULT_RECONCILE_OPTIONS, reconcile } from "../lib/service/reconcile.js";
import { createServiceDeps } from "../lib/wiring/aws-deps.js";

/** Scheduled (EventBridge Scheduler/rule): repairs missed events, ends jobs past their deadline. */
const deps = createServiceDeps(runtimeConfigFromEnv());
const options = {
  staleAfterMs: Number(process.env.RECONCILE_STALE_AFTER_MS ?? DEFAULT_RECONCILE_OPTIONS.staleAfterMs),
  resumeAfterMs: Number(process.env.RECONCILE_RESUME_AFTER_MS ?? DEFAULT_RECONCILE_OPTIONS.resumeAfterMs),
};

/** Each pass is correlated by its Lambda request id: its log lines, and the events of its repairs. */
export const handler = async (_event: unknown, context: Context) => {
  const scoped = invocationDeps(deps, { context, correlationId: context.awsRequestId });
  const report = await reconcile(scoped, options).finally(() => deps.metrics?.flush());
  scoped.logger.info("reconciled", { ...report });
  return report;
};
