import type { Context } from "aws-lambda";
import { correlationPaths, invocationDeps } from "../observability/correlation.js";
import type { ServiceDeps } from "./deps.js";
import {
  type BatchJobDetail,
  batchStateChangeEventSchema,
  recordStateChanges,
  type StateChangeInput,
} from "./record-state-change.js";

interface SqsRecord {
  messageId: string;
  body: string;
  attributes?: { ApproximateReceiveCount?: string };
}

const isSqsBatch = (event: unknown): event is { Records: SqsRecord[] } =>
  typeof event === "object" && event !== null && Array.isArray((event as { Records?: unknown }).Records);

const idOf = (event: unknown) => {
  const id = (event as { id?: unknown } | undefined)?.id;
  return typeof id === "string" ? id : undefined;
};

/** The Batch job detail of an EventBridge event, or undefined (logged) when it is not one. */
function detailOf(deps: ServiceDeps, event: unknown): BatchJobDetail | undefined {
  const parsed = batchStateChangeEventSchema.safeParse(event);
  if (parsed.success) {
    const emitted = Date.parse(String((event as { time?: unknown }).time));
    if (!Number.isNaN(emitted)) deps.metrics?.milliseconds("EventLag", deps.now() - emitted);
    return parsed.data.detail;
  }
  deps.logger.warn("not a Batch Job State Change event; dropped", { issues: parsed.error.issues.length });
  return undefined;
}

/**
 * The SQS records as state changes to record. Each record is read with its SQS message id and its
 * EventBridge event id as log keys (the event id is the correlation id, and goes into the product
 * event of the change it makes).
 */
function inputsOf(deps: ServiceDeps, records: SqsRecord[]) {
  return records.map((record) => {
    deps.logger.appendKeys({ messageId: record.messageId });
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    if (typeof body === "object" && body !== null) {
      deps.logger.setCorrelationId(body, correlationPaths.EVENT_BRIDGE);
    }
    const detail = detailOf(deps, body);
    deps.logger.removeKeys(["messageId", "correlation_id"]);
    const input: StateChangeInput | undefined = detail && {
      detail,
      eventId: idOf(body),
      redelivered: Number(record.attributes?.ApproximateReceiveCount ?? 1) > 1,
    };
    return { messageId: record.messageId, input };
  });
}

/**
 * The batch-events function. In AWS it consumes the ingest queue (SQS batches of EventBridge events,
 * cdk/constructs/state-change-ingest.ts) and answers with partial batch failures; the local stack feeds
 * it the same way. It also takes a bare EventBridge event, or an array of them. A malformed event is
 * dropped (retrying cannot fix it).
 *
 * A message is reported failed when its change could not be recorded, or was recorded but its product
 * event could not be published: SQS then delivers it again, and on that redelivery the change is a
 * no-op whose event is published again (record-state-change.ts `redelivered`). So the message is the
 * change's outbox, and a product event is at least once without a second DynamoDB write per event.
 */
export function createBatchEventsHandler(deps: ServiceDeps) {
  const handle = async (event: unknown, context?: Partial<Context>) => {
    if (isSqsBatch(event)) {
      const scoped = invocationDeps(deps, { context });
      const read = inputsOf(scoped, event.Records);
      const usable = read.filter(
        (entry): entry is { messageId: string; input: StateChangeInput } => entry.input !== undefined,
      );
      const outcomes = await recordStateChanges(
        scoped,
        usable.map((entry) => entry.input),
      );
      const batchItemFailures = usable
        .filter((_, i) => outcomes[i] === "failed")
        .map((entry) => ({ itemIdentifier: entry.messageId }));
      if (batchItemFailures.length > 0) {
        scoped.logger.warn("messages left for SQS to deliver again", {
          messageIds: batchItemFailures.map((failure) => failure.itemIdentifier),
        });
      }
      return { batchItemFailures };
    }
    const events = Array.isArray(event) ? event : [event];
    const scoped = invocationDeps(deps, {
      context,
      ...(events.length === 1 ? { event: events[0], path: correlationPaths.EVENT_BRIDGE } : {}),
    });
    const inputs = events.flatMap((one) => {
      const detail = detailOf(scoped, one);
      return detail ? [{ detail, eventId: idOf(one) }] : [];
    });
    const outcomes = await recordStateChanges(scoped, inputs);
    if (outcomes.includes("failed"))
      throw new Error("some state changes could not be recorded; retry the event");
    return { outcome: events.length === 1 ? (outcomes[0] ?? "ignored") : outcomes };
  };
  return async (event: unknown, context?: Partial<Context>) => {
    try {
      return await handle(event, context);
    } finally {
      deps.metrics?.flush();
    }
  };
}
