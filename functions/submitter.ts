import { runtimeConfigFromEnv } from "../lib/config/runtime.js";
import { createSubmitterHandler } from "../lib/service/submitter-handler.js";
import { createServiceDeps } from "../lib/wiring/aws-deps.js";

/** Invoked asynchronously by the API for large batches: submits the recorded batch to AWS Batch. */
export const handler = createSubmitterHandler(createServiceDeps(runtimeConfigFromEnv()));
