import { randomUUID } from "node:crypto";

interface SqsRecord {
  messageId: string;
  body: string;
  attributes: { ApproximateReceiveCount: string };
}

/**
 * The ingest queue, locally (EventBridge → SQS → batch-events in AWS): a window of events becomes one
 * SQS batch, a message per event whose ApproximateReceiveCount counts that event's earlier failed
 * deliveries. The positions the handler reports in `batchItemFailures` are returned as failed, so their
 * deliveries fail and the Batch emulator delivers them again, as SQS does after the visibility timeout.
 */
export function sqsIngest(handler: (event: unknown) => Promise<unknown>) {
  const failedBefore = new Map<string, number>();
  return async (events: unknown[]): Promise<Set<number>> => {
    const messages = events.map((event) => {
      const id = (event as { id?: unknown }).id;
      const key = typeof id === "string" ? id : randomUUID();
      const receives = (failedBefore.get(key) ?? 0) + 1;
      const record: SqsRecord = {
        messageId: randomUUID(),
        body: JSON.stringify(event),
        attributes: { ApproximateReceiveCount: String(receives) },
      };
      return { key, receives, record };
    });
    let failedIds: Set<string>;
    try {
      const result = (await handler({ Records: messages.map((message) => message.record) })) as
        | { batchItemFailures?: { itemIdentifier: string }[] }
        | undefined;
      failedIds = new Set(result?.batchItemFailures?.map((failure) => failure.itemIdentifier));
    } catch (error) {
      for (const { key, receives } of messages) failedBefore.set(key, receives);
      throw error;
    }
    const failed = new Set<number>();
    messages.forEach(({ key, receives, record }, position) => {
      if (failedIds.has(record.messageId)) {
        failed.add(position);
        failedBefore.set(key, receives);
      } else {
        failedBefore.delete(key);
      }
    });
    return failed;
  };
}
