import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { createBatchEventsHandler } from "../lib/service/batch-events-handler.js";
import { createServiceDeps } from "../lib/wiring/aws-deps.js";

/** EventBridge rule target for "Batch Job State Change" events of this deployment's queues. */
export const handler = createBatchEventsHandler(createServiceDeps(runtimeConfigFromEnv()));
