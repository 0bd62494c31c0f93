import type { ProductEvent, ProductEventPublisher } from "../notify/product-events.js";

/**
 * Fault injection for the local stack's product events: the stack wraps its bus in this at construction,
 * and a test swaps in a failing publisher (`stack.faults.events.use(...)`) and back (`restore()`),
 * instead of changing the services' deps while they run.
 */
export class SwitchablePublisher implements ProductEventPublisher {
  private current: ProductEventPublisher;

  constructor(readonly real: ProductEventPublisher) {
    this.current = real;
  }

  use(publisher: ProductEventPublisher): void {
    this.current = publisher;
  }

  restore(): void {
    this.current = this.real;
  }

  publish(events: ProductEvent[]): Promise<void> {
    return this.current.publish(events);
  }
}
