import { parseArgs } from "node:util";
import { ConfigError } from "../config/load.js";
import { startLocalStack } from "./stack.js";

/**
 * `npm start [-- --config FILE] [--environment NAME] [--secrets FILE] [--data DIR] [--port N] [--status-only]`:
 * the whole product on this machine. Ctrl-C stops everything it started.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      config: { type: "string", default: process.env.CONFIG_FILE ?? "radixconfig.yaml" },
      environment: { type: "string", default: process.env.RADIX_ENVIRONMENT },
      secrets: { type: "string", default: process.env.SECRETS_FILE },
      data: { type: "string" },
      port: { type: "string", default: process.env.PORT },
      "status-only": { type: "boolean", default: false },
    },
  });
  // Read before the stack points the SDK at its own emulators (it sets these variables for its processes).
  const endpoints = {
    dynamodb: process.env.AWS_ENDPOINT_URL_DYNAMODB || undefined,
    s3: process.env.AWS_ENDPOINT_URL_S3 || undefined,
  };
  const stack = await startLocalStack({
    endpoints,
    configFile: values.config,
    environment: values.environment,
    secretsFile: values.secrets,
    dataDir: values.data,
    port: values.port === undefined ? undefined : Number(values.port),
    batch: { mode: values["status-only"] ? "status-only" : "run" },
  });
  console.log(`job scheduler local stack (data: ${stack.dataDir})`);
  if (endpoints.dynamodb) console.log(`  DynamoDB: ${endpoints.dynamodb} (AWS_ENDPOINT_URL_DYNAMODB)`);
  if (endpoints.s3) console.log(`  S3: ${endpoints.s3} (AWS_ENDPOINT_URL_S3)`);
  for (const [component, url] of Object.entries(stack.urls))
    console.log(`  ${component}: ${url}/api/v1/jobs`);
  console.log(`  events seen by the handler: ${stack.dataDir}/batch/events.ndjson`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("stopping…");
    await stack.close();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? `configuration error: ${error.message}` : error);
  process.exit(1);
});
