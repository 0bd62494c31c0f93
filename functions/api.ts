import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { createApiHandler } from "../lib/http/app.js";
import { CloudWatchLogReader } from "../lib/logs/cloudwatch-log-reader.js";
import { createServiceDeps, RETRY } from "../lib/wiring/aws-deps.js";
import { lambdaSubmitter } from "../lib/wiring/lambda-submitter.js";

/** API Gateway (REST, proxy) → the job-scheduler API of the job component named by COMPONENT. */
const { COMPONENT, SUBMITTER_FUNCTION_NAME, BATCH_LOG_GROUP } = process.env;
if (!COMPONENT) throw new Error("COMPONENT is not set");
if (!SUBMITTER_FUNCTION_NAME) throw new Error("SUBMITTER_FUNCTION_NAME is not set");

const deps = createServiceDeps(runtimeConfigFromEnv(), {
  submitInBackground: lambdaSubmitter(SUBMITTER_FUNCTION_NAME),
  logs: BATCH_LOG_GROUP
    ? new CloudWatchLogReader(new CloudWatchLogsClient({ ...RETRY }), BATCH_LOG_GROUP)
    : undefined,
});

export const handler = createApiHandler(deps, COMPONENT);
