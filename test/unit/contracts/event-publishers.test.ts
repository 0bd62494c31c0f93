import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  EventBridgeClient,
  PutEventsCommand,
  type PutEventsCommandInput,
  type PutEventsResultEntry,
} from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll } from "vitest";
import { EventBridgePublisher } from "#lib/notify/eventbridge-publisher.js";
import { LocalProductBus } from "#lib/notify/local-bus.js";
import type { ProductEvent } from "#lib/notify/product-events.js";
import { type Delivered, publisherContract } from "./event-publisher.contract.js";

const dir = mkdtempSync(join(tmpdir(), "publisher-contract-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

// Local stack: the bus is product-events.ndjson, and each event is handed to the consumer.
publisherContract({
  name: "LocalProductBus (local stack)",
  make() {
    const n = files++;
    const paths = { events: join(dir, `events-${n}.ndjson`), dead: join(dir, `dead-${n}.ndjson`) };
    const consumed: ProductEvent[] = [];
    const bus = new LocalProductBus(paths, async (event) => {
      consumed.push(event);
    });
    return {
      publisher: bus,
      async delivered() {
        await bus.drain();
        if (!existsSync(paths.events)) return [];
        const onBus = readFileSync(paths.events, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((line) => JSON.parse(line) as Delivered);
        // The consumer got the same events the bus recorded.
        if (consumed.length !== onBus.length) throw new Error("consumer and bus disagree");
        return onBus;
      },
    };
  },
  unavailable: () =>
    new LocalProductBus(
      { events: join(dir, "missing", "events.ndjson"), dead: join(dir, "dead.ndjson") },
      async () => {},
    ),
});

/**
 * AWS: PutEvents answers as the EventBridge API documents them (API_PutEvents.html): one result entry
 * per request entry, in order, a failed one carrying ErrorCode; at most 10 entries a call. Accepted
 * entries are what EventBridge delivers to the rule's target as {source, detail-type, detail}.
 */
const eventBridge = mockClient(EventBridgeClient);
afterAll(() => eventBridge.restore());

function eventBridgeSetup(name: string, fails: (call: number, index: number) => boolean) {
  return {
    name,
    make() {
      const onBus: Delivered[] = [];
      let calls = 0;
      eventBridge.reset();
      eventBridge.on(PutEventsCommand).callsFake((input: PutEventsCommandInput) => {
        const call = calls++;
        const entries = input.Entries ?? [];
        if (entries.length > 10) throw new Error("PutEvents takes at most 10 entries");
        const results: PutEventsResultEntry[] = entries.map((entry, index) => {
          if (fails(call, index)) return { ErrorCode: "ThrottlingException", ErrorMessage: "Rate exceeded" };
          onBus.push({
            source: entry.Source,
            "detail-type": entry.DetailType,
            detail: JSON.parse(entry.Detail ?? "null"),
          });
          return { EventId: `${call}-${index}` };
        });
        return { FailedEntryCount: results.filter((result) => result.ErrorCode).length, Entries: results };
      });
      return {
        publisher: new EventBridgePublisher(new EventBridgeClient({ region: "eu-west-1" }), "bus"),
        delivered: async () => onBus,
      };
    },
    unavailable() {
      eventBridge.reset();
      eventBridge.on(PutEventsCommand).resolves({
        FailedEntryCount: 1,
        Entries: [{ ErrorCode: "InternalFailure", ErrorMessage: "Internal failure" }],
      });
      return new EventBridgePublisher(new EventBridgeClient({ region: "eu-west-1" }), "bus");
    },
  };
}

publisherContract(eventBridgeSetup("EventBridgePublisher (AWS, PutEvents answers)", () => false));
// Every third call, the second entry on is throttled (a partial failure), as under load.
publisherContract(
  eventBridgeSetup(
    "EventBridgePublisher (AWS, PutEvents partly throttled)",
    (call, index) => call % 3 === 0 && index >= 1,
  ),
);
