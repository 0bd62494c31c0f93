import { Logger } from "@aws-lambda-powertools/logger";
import { BatchClient } from "@aws-sdk/client-batch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AwsBatchGateway } from "../batch/aws-batch-gateway.js";
import type { BatchGateway } from "../batch/gateway.js";
import type { RuntimeConfig } from "../config/runtime.js";
import { PowertoolsIdempotencyGuard } from "../idempotency/powertools-idempotency.js";
import { EventBridgePublisher } from "../notify/eventbridge-publisher.js";
import { PowertoolsMetricsSink } from "../observability/metrics.js";
import { S3PayloadStore } from "../payloads/s3-payload-store.js";
import type { ServiceDeps } from "../service/deps.js";
import { DynamoJobStore } from "../store/dynamo-job-store.js";

/**
 * SDK retries: throttling (SubmitJob: 50 TPS per account) and 5xx are retried with exponential backoff
 * and jitter; "adaptive" also rate-limits the client after throttling.
 */
export const RETRY = { maxAttempts: 8, retryMode: "adaptive" as const };

export interface AwsClients {
  /** SubmitJob only, without SDK retries (AwsBatchGateway.submit retries safely itself). */
  batchSubmit: BatchClient;
  dynamoRaw: DynamoDBClient;
  dynamo: DynamoDBDocumentClient;
  s3: S3Client;
  batch: BatchClient;
}

/**
 * Clients honour AWS_ENDPOINT_URL_DYNAMODB / _S3 / _BATCH, which is how the local stack points the very
 * same code at its emulators. The S3 emulator needs path-style addressing.
 */
export function createAwsClients(env: NodeJS.ProcessEnv = process.env): AwsClients {
  const dynamoRaw = new DynamoDBClient({ ...RETRY });
  const dynamo = DynamoDBDocumentClient.from(dynamoRaw, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: true },
  });
  const s3 = new S3Client({ ...RETRY, forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3) });
  const batch = new BatchClient({ ...RETRY });
  const batchSubmit = new BatchClient({ maxAttempts: 1 });
  return { dynamoRaw, dynamo, s3, batch, batchSubmit };
}

export function createLogger(serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? "job-scheduler"): Logger {
  return new Logger({ serviceName });
}

/**
 * The deps of a deployment, built once. The local stack passes its own adapters (`events`, `logs`,
 * `auth`, …) and wraps ports for fault injection with `wrapBatch`; nothing changes them afterwards.
 */
export function createServiceDeps(
  runtime: RuntimeConfig,
  options: {
    clients?: AwsClients;
    logger?: Logger;
    submitInBackground?: ServiceDeps["submitInBackground"];
    now?: () => number;
    /** Default: EventBridge when EVENT_BUS_NAME is set, else none. */
    events?: ServiceDeps["events"];
    wrapBatch?: (gateway: BatchGateway) => BatchGateway;
  } & Pick<ServiceDeps, "logs" | "auth" | "localEntrypoints" | "submitLeaseMs" | "restartSyncMax"> = {},
): ServiceDeps {
  const clients = options.clients ?? createAwsClients();
  const logger = options.logger ?? createLogger();
  // Product events of job and batch status changes, on the deployment's bus (cdk/constructs/notifications.ts).
  const busName = process.env.EVENT_BUS_NAME;
  const batch = new AwsBatchGateway(clients.batch, clients.batchSubmit);
  return Object.freeze({
    idempotency: new PowertoolsIdempotencyGuard(
      clients.dynamoRaw,
      runtime.tableName,
      runtime.idempotencyWindowSeconds,
    ),
    logs: options.logs,
    // Embedded-metric-format lines only inside Lambda, where CloudWatch turns them into metrics.
    metrics: process.env.AWS_LAMBDA_FUNCTION_NAME
      ? new PowertoolsMetricsSink(process.env.POWERTOOLS_SERVICE_NAME ?? "job-scheduler")
      : undefined,
    events:
      options.events ??
      (busName ? new EventBridgePublisher(new EventBridgeClient({ ...RETRY }), busName) : undefined),
    runtime,
    store: new DynamoJobStore(clients.dynamo, runtime.tableName),
    payloads: new S3PayloadStore(clients.s3, runtime.bucketName),
    batch: options.wrapBatch ? options.wrapBatch(batch) : batch,
    logger,
    now: options.now ?? Date.now,
    submitInBackground:
      options.submitInBackground ??
      (async () => {
        throw new Error("no background submitter is configured");
      }),
    auth: options.auth,
    localEntrypoints: options.localEntrypoints,
    submitLeaseMs: options.submitLeaseMs,
    restartSyncMax: options.restartSyncMax,
  });
}
