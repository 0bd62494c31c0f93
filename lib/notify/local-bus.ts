import { appendFileSync } from "node:fs";
import { EVENT_SOURCE, type ProductEvent, type ProductEventPublisher } from "./product-events.js";

/**
 * The local stack's stand-in for the product's EventBridge bus and its notifier queue: every event is
 * appended to `product-events.ndjson` (shaped as EventBridge delivers it: `detail-type`, `source`,
 * `detail`) and handed to the consumer, one after another per batch in publish order (so per job and
 * per batch in order); what the consumer still fails goes to `notifications-dead.ndjson`.
 */
export class LocalProductBus implements ProductEventPublisher {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly files: { events: string; dead: string },
    private readonly consumer: (event: ProductEvent) => Promise<void>,
  ) {}

  async publish(events: ProductEvent[]) {
    for (const event of events) {
      const { batchName } = event.detail;
      appendFileSync(
        this.files.events,
        `${JSON.stringify({ "detail-type": event.detailType, source: EVENT_SOURCE, detail: event.detail })}\n`,
      );
      const previous = this.chains.get(batchName) ?? Promise.resolve();
      const next = previous.then(() =>
        this.consumer(event).catch((error: Error) => {
          appendFileSync(this.files.dead, `${JSON.stringify({ event, error: error.message })}\n`);
        }),
      );
      this.chains.set(batchName, next);
      void next.then(() => {
        if (this.chains.get(batchName) === next) this.chains.delete(batchName);
      });
    }
  }

  /** Waits for everything published so far to be consumed. */
  async drain() {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }
}
