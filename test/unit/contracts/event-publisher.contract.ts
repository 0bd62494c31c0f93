import { describe, expect, it } from "vitest";
import {
  BATCH_STATUS_CHANGE,
  batchEvent,
  EVENT_SOURCE,
  JOB_STATUS_CHANGE,
  jobEvent,
  type ProductEvent,
  type ProductEventPublisher,
  productEventEnvelopeSchema,
} from "#lib/notify/product-events.js";

/** An event as the bus hands it to its consumer (EventBridge's rule target shape). */
export interface Delivered {
  source: unknown;
  "detail-type": unknown;
  detail: unknown;
}

/** A way to stand up one ProductEventPublisher implementation and see what reached its bus. */
export interface PublisherSetup {
  name: string;
  make(): { publisher: ProductEventPublisher; delivered(): Promise<Delivered[]> };
  /** A publisher whose bus cannot take events. */
  unavailable(): ProductEventPublisher;
}

const TIME = "2024-01-31T12:00:00Z";
const job = (batchName: string, sequence: number): ProductEvent =>
  jobEvent({
    component: "compute",
    batchName,
    jobName: `${batchName}-0000000${sequence % 10}`,
    previousStatus: "Waiting",
    status: "Running",
    attempts: 1,
    sequence,
    time: TIME,
  });
const batch = (batchName: string, sequence: number): ProductEvent =>
  batchEvent({
    component: "compute",
    batchName,
    batchType: "batch",
    previousStatus: "Waiting",
    status: "Running",
    counts: { Waiting: 1, Active: 0, Running: 1, Succeeded: 0, Failed: 0, Stopped: 0, DeadlineExceeded: 0 },
    totalJobs: 2,
    sequence,
    time: TIME,
  });
const key = (event: { detail: unknown; "detail-type"?: unknown; detailType?: unknown }) => {
  const detail = event.detail as { batchName: string; jobName?: string; sequence: number };
  return `${event["detail-type"] ?? event.detailType}|${detail.batchName}|${detail.jobName ?? ""}|${detail.sequence}`;
};

/**
 * What the product relies on from any ProductEventPublisher (lib/notify/product-events.ts): every
 * event reaches the bus at least once, shaped so the notifier can parse it, and per batch the first
 * arrival of each event keeps publish order (consumers drop repeats by their documented key). Written
 * once, run against each implementation (test/unit/contracts/event-publishers.test.ts).
 */
export function publisherContract(setup: PublisherSetup) {
  describe(`ProductEventPublisher contract: ${setup.name}`, () => {
    it("publishing nothing puts nothing on the bus", async () => {
      const { publisher, delivered } = setup.make();
      await publisher.publish([]);
      expect(await delivered()).toEqual([]);
    });

    it("puts every event on the bus as the notifier parses it, with the product's source", async () => {
      const { publisher, delivered } = setup.make();
      const events = [job("b1", 1), batch("b1", 1), job("b2", 2)];
      await publisher.publish(events);
      const arrived = await delivered();
      for (const event of arrived) {
        expect(event.source).toBe(EVENT_SOURCE);
        expect(productEventEnvelopeSchema.safeParse(event).success, JSON.stringify(event)).toBe(true);
      }
      const first = new Map(arrived.map((event) => [key(event), event]));
      expect([...first.keys()].sort()).toEqual(events.map(key).sort());
      for (const event of events) {
        expect(first.get(key(event))).toMatchObject({
          "detail-type": event.detailType,
          detail: event.detail,
        });
      }
      expect(arrived.map((event) => event["detail-type"])).toContain(BATCH_STATUS_CHANGE);
      expect(arrived.map((event) => event["detail-type"])).toContain(JOB_STATUS_CHANGE);
    });

    it("keeps publish order per batch, within a call and across calls, however many events", async () => {
      const { publisher, delivered } = setup.make();
      const first = Array.from({ length: 23 }, (_, i) =>
        i % 3 === 0 ? batch(`b${i % 2}`, i) : job(`b${i % 2}`, i),
      );
      const second = Array.from({ length: 5 }, (_, i) => job(`b${i % 2}`, 100 + i));
      await publisher.publish(first);
      await publisher.publish(second);
      const arrived = await delivered();
      const published = [...first, ...second];
      for (const batchName of ["b0", "b1"]) {
        const ofBatch = (events: { detail: unknown }[]) =>
          events.filter((event) => (event.detail as { batchName: string }).batchName === batchName);
        const firstArrivals = [...new Set(ofBatch(arrived).map(key))];
        expect(firstArrivals).toEqual(ofBatch(published).map(key));
      }
    });

    it("throws when its bus cannot take the events (the caller keeps them to publish later)", async () => {
      await expect(setup.unavailable().publish([job("b1", 1)])).rejects.toThrow();
    });
  });
}
