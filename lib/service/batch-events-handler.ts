import type { ServiceDeps } from "./deps.js";
import {
  type BatchJobDetail,
  batchStateChangeEventSchema,
  recordStateChanges,
} from "./record-state-change.js";

interface SqsRecord {
  messageId: string;
  body: string;
}

const isSqsBatch = (event: unknown): event is { Records: SqsRecord[] } =>
  typeof event === "object" && event !== null && Array.isArray((event as { Records?: unknown }).Records);

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
 * The batch-events function. In AWS it consumes the ingest queue (SQS batches of EventBridge events,
 * cdk/constructs/state-change-ingest.ts) and answers with partial batch failures; it also takes a bare
 * EventBridge event, or an array of them (the local stack's delivery window). A malformed event is
 * dropped (retrying cannot fix it); a failed write is reported so the message is retried.
 */
export function createBatchEventsHandler(deps: ServiceDeps) {
  const handle = async (event: unknown) => {
    if (isSqsBatch(event)) {
      const entries = event.Records.map((record) => {
        let body: unknown;
        try {
          body = JSON.parse(record.body);
        } catch {
          body = undefined;
        }
        return { messageId: record.messageId, detail: detailOf(deps, body) };
      });
      const usable = entries.filter((entry) => entry.detail !== undefined);
      const outcomes = await recordStateChanges(
        deps,
        usable.map((entry) => entry.detail!),
      );
      const batchItemFailures = usable
        .filter((_, i) => outcomes[i] === "failed")
        .map((entry) => ({ itemIdentifier: entry.messageId }));
      return { batchItemFailures };
    }
    const events = Array.isArray(event) ? event : [event];
    const details = events
      .map((one) => detailOf(deps, one))
      .filter((d): d is BatchJobDetail => d !== undefined);
    const outcomes = await recordStateChanges(deps, details);
    if (outcomes.includes("failed"))
      throw new Error("some state changes could not be recorded; retry the event");
    return { outcome: events.length === 1 ? (outcomes[0] ?? "ignored") : outcomes };
  };
  return async (event: unknown) => {
    try {
      return await handle(event);
    } finally {
      deps.metrics?.flush();
    }
  };
}
