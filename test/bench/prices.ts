/**
 * AWS list prices used to turn measured usage into the scheduler's own cost per million jobs.
 * Region us-east-1, public price pages as read on 2026-11-30 (DynamoDB on-demand after its
 * November 2024 reduction). Change them here; nothing else hard-codes a price.
 */
export const PRICES = {
  region: "us-east-1",
  asOf: "2026-11-30",
  /** DynamoDB on-demand: per write request unit (1 KB) and read request unit (4 KB strongly consistent). */
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  /** SQS standard queue: per request (each 64 KB chunk); a message is sent, received and deleted. */
  sqsRequest: 0.4 / 1e6,
  /** EventBridge: per custom event published (PutEvents entry of up to 64 KB). AWS service events are free. */
  eventBridgeEvent: 1.0 / 1e6,
  /** Lambda arm64: per request and per GB-second. */
  lambdaRequest: 0.2 / 1e6,
  lambdaGbSecond: 0.0000133334,
} as const;
