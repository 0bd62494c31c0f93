import { appendFileSync } from "node:fs";
import type { JobStatusChange, ProductEventPublisher } from "./product-events.js";

/**
 * The local stack's stand-in for the product's EventBridge bus and its notifier queue: every event is
 * appended to `product-events.ndjson` and handed to the consumer, one batch after another in publish
 * order (so per job in order); what the consumer still fails goes to `notifications-dead.ndjson`.
 */
export class LocalProductBus implements ProductEventPublisher {
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly files: { events: string; dead: string },
    private readonly consumer: (change: JobStatusChange) => Promise<void>,
  ) {}

  async publish(changes: JobStatusChange[]) {
    for (const change of changes) {
      appendFileSync(
        this.files.events,
        `${JSON.stringify({ "detail-type": "Job Status Change", source: "job-scheduler", detail: change })}\n`,
      );
      const previous = this.chains.get(change.batchName) ?? Promise.resolve();
      const next = previous.then(() =>
        this.consumer(change).catch((error: Error) => {
          appendFileSync(this.files.dead, `${JSON.stringify({ change, error: error.message })}\n`);
        }),
      );
      this.chains.set(change.batchName, next);
      void next.then(() => {
        if (this.chains.get(change.batchName) === next) this.chains.delete(change.batchName);
      });
    }
  }

  /** Waits for everything published so far to be consumed. */
  async drain() {
    while (this.chains.size > 0) await Promise.all(this.chains.values());
  }
}
