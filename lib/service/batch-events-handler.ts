import type { Context } from "aws-lambda";
import { correlationPaths, invocationDeps } from "../observability/correlation.js";
import type { BatchDeps, ReadDeps, WriteDeps } from "./deps.js";
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
function detailOf(
  deps: WriteDeps,
  event: unknown,
  where: Record<string, string | undefined> = {},
): BatchJobDetail | undefined {
  const parsed = batchStateChangeEventSchema.safeParse(event);
  if (parsed.success) {
    const emitted = Date.parse(String((event as { time?: unknown }).time));
    if (!Number.isNaN(emitted)) deps.metrics?.milliseconds("EventLag", deps.now() - emitted);
    return parsed.data.detail;
  }
  deps.logger.warn("not a Batch Job State Change event; dropped", {
    ...where,
    issues: parsed.error.issues.length,
  });
  return undefined;
}

/**
 * The SQS records as state changes to record. The EventBridge event id is the change's correlation id
 * (it goes into the product event and the logs of recording it); a dropped record is logged with its
 * SQS message id and event id. Nothing per record touches the logger otherwise: at thousands of events
 * a second, per-record logger keys and correlation-id searches were a measurable share of the cost.
 */
function inputsOf(deps: ReadDeps, records: SqsRecord[]) {
  return records.map((record) => {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const detail = detailOf(deps, body, { messageId: record.messageId, correlation_id: idOf(body) });
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
export function createBatchEventsHandler(deps: BatchDeps) {
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
