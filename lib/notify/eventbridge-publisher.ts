import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { EVENT_SOURCE, type ProductEvent, type ProductEventPublisher } from "./product-events.js";

/** PutEvents takes at most 10 entries a call. */
const PUT_EVENTS_LIMIT = 10;
const ATTEMPTS = 5;

/**
 * Publishes product events on the deployment's bus. When PutEvents reports some entries failed, the
 * call is repeated from the first failed one on (entries after it are sent again rather than out of
 * order; consumers drop repeats by the events' documented key). Throws when events stay unpublished,
 * so the caller can keep them for later (lib/service/entries.ts).
 */
export class EventBridgePublisher implements ProductEventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: ProductEvent[]) {
    for (let start = 0; start < events.length; start += PUT_EVENTS_LIMIT) {
      let entries = events.slice(start, start + PUT_EVENTS_LIMIT).map((event) => ({
        EventBusName: this.busName,
        Source: EVENT_SOURCE,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
        Resources: [],
      }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        if (attempt >= ATTEMPTS) throw new Error(`PutEvents left ${entries.length} events unpublished`);
        const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
        const firstFailed = (result.Entries ?? []).findIndex((entry) => entry.ErrorCode);
        entries = firstFailed < 0 ? [] : entries.slice(firstFailed);
      }
    }
  }
}
