import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { ConflictError } from "../api/errors.js";
import type { IdempotencyGuard } from "./idempotency.js";

/** How long a repeat waits for the first request still in progress before answering 409. */
const WAIT_FOR_FIRST_MS = 25_000;

interface Call {
  key: string;
  body: unknown;
  create: () => Promise<string>;
}

/**
 * Powertools for AWS Lambda idempotency on the job table: records `IDEMPOTENCY` / <hash of scope+key>,
 * the body's hash for validation, and the created name; DynamoDB TTL (`ttl`) removes them after the window.
 */
export class PowertoolsIdempotencyGuard implements IdempotencyGuard {
  private readonly run: (call: Call) => Promise<string>;

  constructor(client: DynamoDBClient, tableName: string, windowSeconds: number) {
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName,
      awsSdkV3Client: client,
      keyAttr: "pk",
      sortKeyAttr: "sk",
      staticPkValue: "IDEMPOTENCY",
      expiryAttr: "ttl",
    });
    const config = new IdempotencyConfig({
      eventKeyJmesPath: "key",
      payloadValidationJmesPath: "body",
      expiresAfterSeconds: windowSeconds,
    });
    // An in-progress record expires when a request could no longer be running: API Gateway waits 29 s.
    config.registerLambdaContext({ getRemainingTimeInMillis: () => 30_000 } as never);
    this.run = makeIdempotent(async (call: Call) => call.create(), { persistenceStore, config });
  }

  async once(scope: string, key: string, body: unknown, create: () => Promise<string>): Promise<string> {
    const deadline = Date.now() + WAIT_FOR_FIRST_MS;
    for (;;) {
      try {
        return await this.run({ key: `${scope}#${key}`, body, create });
      } catch (error) {
        if (error instanceof IdempotencyValidationError) {
          throw new ConflictError(`Idempotency-Key '${key}' was already used with a different request body`);
        }
        if (!(error instanceof IdempotencyAlreadyInProgressError)) throw error;
        if (Date.now() > deadline) {
          throw new ConflictError(
            `a request with Idempotency-Key '${key}' is still being processed; retry later`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 100));
      }
    }
  }
}
