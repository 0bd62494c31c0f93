import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { createNotifierHandler } from "../lib/notify/notifier-handler.js";
import { createServiceDeps } from "../lib/wiring/aws-deps.js";

/** SQS consumer of the product bus's status changes: Radix webhooks, retried, dead-lettered by SQS. */
export const handler = createNotifierHandler(createServiceDeps(runtimeConfigFromEnv()));
