import { Logger } from "@aws-lambda-powertools/logger";
import { BatchClient } from "@aws-sdk/client-batch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { PowertoolsIdempotencyGuard } from "../idempotency/powertools-idempotency.js";
import { CloudWatchLogReader } from "../logs/cloudwatch-log-reader.js";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { AwsBatchGateway } from "../batch/aws-batch-gateway.js";
import type { RuntimeConfig } from "../config/runtime.js";
import { S3PayloadStore } from "../payloads/s3-payload-store.js";
import type { ServiceDeps } from "../service/deps.js";
import { DynamoJobStore } from "../store/dynamo-job-store.js";

/**
 * SDK retries: throttling (SubmitJob: 50 TPS per account) and 5xx are retried with exponential backoff
 * and jitter; "adaptive" also rate-limits the client after throttling.
 */
const RETRY = { maxAttempts: 8, retryMode: "adaptive" as const };

export interface AwsClients {
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
  return { dynamoRaw, dynamo, s3, batch };
}

export function createLogger(serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? "job-scheduler"): Logger {
  return new Logger({ serviceName });
}

/** Hands a batch to the submitter function (asynchronous invoke: the API answers at once). */
export function lambdaSubmitter(functionName: string) {
  const lambda = new LambdaClient({ ...RETRY });
  return async (component: string, batchName: string) => {
    await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify({ component, batchName })),
      }),
    );
  };
}

export function createServiceDeps(
  runtime: RuntimeConfig,
  options: {
    clients?: AwsClients;
    logger?: Logger;
    submitInBackground?: ServiceDeps["submitInBackground"];
    now?: () => number;
  } = {},
): ServiceDeps {
  const clients = options.clients ?? createAwsClients();
  const logger = options.logger ?? createLogger();
  const submitterName = process.env.SUBMITTER_FUNCTION_NAME;
  const logGroup = process.env.BATCH_LOG_GROUP;
  return {
    idempotency: new PowertoolsIdempotencyGuard(clients.dynamoRaw, runtime.tableName, runtime.idempotencyWindowSeconds),
    logs: logGroup ? new CloudWatchLogReader(new CloudWatchLogsClient({ ...RETRY }), logGroup) : undefined,
    runtime,
    store: new DynamoJobStore(clients.dynamo, runtime.tableName),
    payloads: new S3PayloadStore(clients.s3, runtime.bucketName),
    batch: new AwsBatchGateway(clients.batch),
    logger,
    now: options.now ?? Date.now,
    submitInBackground:
      options.submitInBackground ??
      (submitterName
        ? lambdaSubmitter(submitterName)
        : async () => {
            throw new Error("SUBMITTER_FUNCTION_NAME is not set");
          }),
  };
}
