import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import {
  EVENT_SOURCE,
  JOB_STATUS_CHANGE,
  type JobStatusChange,
  type ProductEventPublisher,
} from "./product-events.js";

/** PutEvents takes at most 10 entries a call; entries it reports failed are sent again. */
const PUT_EVENTS_LIMIT = 10;

export class EventBridgePublisher implements ProductEventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(changes: JobStatusChange[]) {
    for (let start = 0; start < changes.length; start += PUT_EVENTS_LIMIT) {
      let entries = changes.slice(start, start + PUT_EVENTS_LIMIT).map((change) => ({
        EventBusName: this.busName,
        Source: EVENT_SOURCE,
        DetailType: JOB_STATUS_CHANGE,
        Detail: JSON.stringify(change),
        Resources: [],
      }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        if (attempt >= 5) throw new Error(`PutEvents left ${entries.length} events unpublished`);
        const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
        entries = entries.filter((_, i) => result.Entries?.[i]?.ErrorCode);
      }
    }
  }
}
