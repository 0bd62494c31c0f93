import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { DynamoScheduleState } from "../lib/schedules/dynamo-schedule-state.js";
import { createScheduledJobHandler } from "../lib/schedules/scheduled-job-handler.js";
import { createAwsClients, createServiceDeps } from "../lib/wiring/aws-deps.js";

/** EventBridge Scheduler → one scheduled run of a job component (radixconfig `schedules` / `cron`). */
const runtime = runtimeConfigFromEnv();
const clients = createAwsClients();
const deps = createServiceDeps(runtime, { clients });

export const handler = createScheduledJobHandler(
  deps,
  new DynamoScheduleState(clients.dynamo, runtime.tableName),
);
