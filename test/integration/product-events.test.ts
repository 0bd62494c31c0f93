import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus } from "#lib/api/schemas.js";
import { finishWithoutBatch } from "#lib/domain/job-state.js";
import { jobName, newBatchName, parseJobName } from "#lib/domain/names.js";
import type { ProductEvent, ProductEventPublisher } from "#lib/notify/product-events.js";
import { invocationDeps } from "#lib/observability/correlation.js";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import { writeEntryWithRetry } from "#lib/service/entries.js";
import { reconcile } from "#lib/service/reconcile.js";
import {
  eventually,
  sampleConfig,
  startTestStack,
  startWebhookReceiver,
  type TestStack,
  type WebhookReceiver,
} from "./harness.js";

interface BusEvent {
  "detail-type": string;
  detail: {
    batchName: string;
    jobName?: string;
    status: string;
    previousStatus: string;
    sequence: number;
    correlationId?: string;
    counts?: Record<string, number>;
    totalJobs?: number;
  };
}

let stack: TestStack;
let receiver: WebhookReceiver;
const notifications: (BatchStatus & { event: string })[] = [];

beforeAll(async () => {
  receiver = await startWebhookReceiver((body) => {
    notifications.push(body as BatchStatus & { event: string });
    return 200;
  });
  const url = receiver.url;
  const config = sampleConfig((c) => {
    c.spec.jobs[0]!.notifications = { webhook: url };
  });
  // No reconciler running on its own: where a test needs it, it runs it.
  stack = await startTestStack({ config, reconcileEveryMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const busEvents = (): BusEvent[] =>
  readFileSync(join(stack.dataDir, "product-events.ndjson"), "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line));

/** Events in the order published, repeats (same key) dropped as a consumer does. */
function deduped(events: BusEvent[]) {
  const seen = new Set<string>();
  return events.filter((event) => {
    const key = `${event.detail.batchName}/${event.detail.jobName ?? ""}/${event.detail.sequence}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const batchEventsOf = (name: string) =>
  busEvents().filter((e) => e["detail-type"] === "Batch Status Change" && e.detail.batchName === name);
const jobEventsOf = (name: string) =>
  busEvents().filter((e) => e["detail-type"] === "Job Status Change" && e.detail.jobName === name);

/** Each event starts where the one before it ended, from Waiting: no change is missing. */
function expectChain(events: BusEvent[]) {
  let status = "Waiting";
  let sequence = -1;
  for (const { detail } of events) {
    expect(detail.previousStatus).toBe(status);
    expect(detail.sequence).toBeGreaterThan(sequence);
    status = detail.status;
    sequence = detail.sequence;
  }
}

async function createBatch(body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${stack.url}/api/v1/batches`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as BatchStatus;
}

const ENDED = ["Succeeded", "Failed", "Stopped"];
const finalBatch = (name: string) =>
  eventually(
    async () => {
      const { body } = await stack.api<BatchStatus>("GET", `/api/v1/batches/${name}`);
      return ENDED.includes(body.status) ? body : undefined;
    },
    60_000,
    `batch ${name} to end`,
  );

/** Fails the next `failures` publish calls, then publishes through. */
function failing(real: ProductEventPublisher, failures: number) {
  let left = failures;
  const attempted: ProductEvent[][] = [];
  const publisher: ProductEventPublisher = {
    async publish(events) {
      attempted.push(events);
      if (left > 0) {
        left--;
        throw new Error("PutEvents failed (injected)");
      }
      await real.publish(events);
    },
  };
  return { publisher, attempted, left: () => left };
}

describe("Batch Status Change events", () => {
  it("announce each change of a batch's status once, in order, with its counts, and reach the webhook", async () => {
    const created = await createBatch({
      batchId: "three",
      jobScheduleDescriptions: [{ payload: "{}" }, { payload: '{"exitCode": 1}' }, { payload: "{}" }],
    });
    const done = await finalBatch(created.name);
    expect(done.status).toBe("Failed");
    const events = await eventually(async () => {
      const found = batchEventsOf(created.name);
      return found.at(-1)?.detail.status === "Failed" ? found : undefined;
    });
    expect(events.map((e) => e.detail.status)).toEqual(["Running", "Failed"]);
    expectChain(events);
    expect(events.at(-1)!.detail).toMatchObject({
      batchId: "three",
      batchType: "batch",
      totalJobs: 3,
      counts: { Waiting: 0, Active: 0, Running: 0, Succeeded: 2, Failed: 1, Stopped: 0, DeadlineExceeded: 0 },
    });
    // Radix's BatchEvent for a batch change: the batch's status, no job in jobStatuses.
    const notified = await eventually(async () =>
      notifications.find(
        (n) => n.name === created.name && n.jobStatuses.length === 0 && n.status === "Failed",
      ),
    );
    expect(notified).toMatchObject({
      event: "Update",
      batchType: "batch",
      jobCounts: { Succeeded: 2, Failed: 1 },
    });
  });

  it("a stop makes the batch Stopping, then Stopped, the Stopping event carrying the request's correlation id", async () => {
    const created = await createBatch({
      jobScheduleDescriptions: [{ payload: '{"sleepSeconds": 30}' }, { payload: '{"sleepSeconds": 30}' }],
    });
    await eventually(async () => batchEventsOf(created.name).some((e) => e.detail.status === "Running"));
    const stop = await fetch(`${stack.url}/api/v1/batches/${created.name}/stop`, {
      method: "POST",
      headers: { "x-correlation-id": "stop-4711" },
    });
    expect(stop.status).toBe(200);
    expect(stop.headers.get("x-correlation-id")).toBe("stop-4711");
    expect((await finalBatch(created.name)).status).toBe("Stopped");
    const events = await eventually(async () => {
      const found = batchEventsOf(created.name);
      return found.at(-1)?.detail.status === "Stopped" ? found : undefined;
    });
    expect(events.map((e) => e.detail.status)).toEqual(["Running", "Stopping", "Stopped"]);
    expectChain(events);
    expect(events[1]!.detail.correlationId).toBe("stop-4711");
  });

  it("single jobs have none: their job events carry their status", async () => {
    const created = await stack.api<{ name: string }>("POST", "/api/v1/jobs", { payload: "{}" });
    const batchName = parseJobName(created.body.name)!.batchName;
    await eventually(async () => jobEventsOf(created.body.name).some((e) => e.detail.status === "Succeeded"));
    expect(batchEventsOf(batchName)).toEqual([]);
  });
});

describe("at least once", () => {
  it("with PutEvents failing, every change of every job still arrives, in order per job", async () => {
    const injected = failing(stack.faults.events.real, 5);
    stack.faults.events.use(injected.publisher);
    try {
      const created = await createBatch({
        jobScheduleDescriptions: [{ payload: "{}" }, { payload: "{}" }, { payload: '{"exitCode": 3}' }],
      });
      await finalBatch(created.name);
      for (const job of created.jobStatuses) {
        const events = await eventually(
          async () => {
            const found = deduped(jobEventsOf(job.name));
            return ENDED.includes(found.at(-1)?.detail.status ?? "") ? found : undefined;
          },
          30_000,
          `every event of ${job.name}`,
        );
        // Waiting → Active → Running → Succeeded/Failed: every recorded change, none twice, in order.
        expect(events.map((e) => e.detail.status).slice(0, 2)).toEqual(["Active", "Running"]);
        expectChain(events);
      }
      expect(injected.left()).toBe(0);
      // The batch's own events: a pending one goes out with the next sync, or the reconciler's pass.
      await reconcile(invocationDeps(stack.deps, { correlationId: "reconciler-test" }));
      const batch = deduped(batchEventsOf(created.name));
      expect(batch.map((e) => e.detail.status)).toEqual(["Running", "Failed"]);
      expectChain(batch);
    } finally {
      stack.faults.events.restore();
    }
  });

  it("an SQS redelivery of an event already recorded publishes its change again, a first delivery does not", async () => {
    const created = await createBatch({ jobScheduleDescriptions: [{ payload: "{}" }] });
    await finalBatch(created.name);
    const job = created.jobStatuses[0]!;
    const final = await eventually(async () =>
      jobEventsOf(job.name).find((e) => e.detail.status === "Succeeded"),
    );
    // events.ndjson has an event once its delivery is done, a moment after its change is recorded.
    const batchEvent = await eventually(async () =>
      readFileSync(join(stack.dataDir, "batch", "events.ndjson"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .find(
          (event) =>
            event.detail.parameters?.schedBatch === created.name && event.detail.status === "SUCCEEDED",
        ),
    );
    const handler = createBatchEventsHandler(stack.deps);
    const deliver = (receiveCount: number) =>
      handler({
        Records: [
          {
            messageId: `m-${receiveCount}`,
            body: JSON.stringify(batchEvent),
            attributes: { ApproximateReceiveCount: String(receiveCount) },
          },
        ],
      });
    const before = jobEventsOf(job.name).length;
    expect(await deliver(1)).toEqual({ batchItemFailures: [] });
    expect(jobEventsOf(job.name)).toHaveLength(before);
    expect(await deliver(2)).toEqual({ batchItemFailures: [] });
    const again = jobEventsOf(job.name);
    expect(again).toHaveLength(before + 1);
    expect(again.at(-1)).toEqual(final);
  });

  it("a change the scheduler makes itself is kept in the job's outbox until published, by the reconciler if need be", async () => {
    // A batch recorded but never submitted: nothing but the scheduler and its reconciler touches it.
    const batchName = newBatchName("compute", new Date());
    await stack.deps.store.createBatch(
      {
        name: batchName,
        component: "compute",
        batchType: "batch",
        created: Date.now(),
        size: 1,
        groupCount: 0,
      },
      [],
      [],
    );
    const job = jobName(batchName, 0);
    const down = failing(stack.faults.events.real, Number.POSITIVE_INFINITY);
    stack.faults.events.use(down.publisher);
    try {
      await writeEntryWithRetry(
        invocationDeps(stack.deps, { correlationId: "deadline-test" }),
        batchName,
        0,
        (entry) =>
          finishWithoutBatch(
            entry,
            "DeadlineExceeded",
            Date.now(),
            "Job was active longer than specified deadline",
          ),
      );
    } finally {
      stack.faults.events.restore();
    }
    expect(down.attempted.flat().map((event) => event.detail.status)).toEqual(["DeadlineExceeded", "Failed"]);
    const shard = await stack.deps.store.getShard(batchName, 0);
    expect(shard!.entries.get(0)!.outbox?.map((event) => event.status)).toEqual(["DeadlineExceeded"]);
    expect(busEvents().filter((e) => e.detail.batchName === batchName)).toEqual([]);

    await reconcile(invocationDeps(stack.deps, { correlationId: "reconciler-test" }));
    const published = busEvents().filter((e) => e.detail.batchName === batchName);
    expect(published.map((e) => [e["detail-type"], e.detail.status, e.detail.correlationId])).toEqual([
      ["Job Status Change", "DeadlineExceeded", "deadline-test"],
      ["Batch Status Change", "Failed", "deadline-test"],
    ]);
    expect(published[0]!.detail.jobName).toBe(job);
    expect((await stack.deps.store.getShard(batchName, 0))!.entries.get(0)!.outbox).toBeUndefined();
    // Everything published: the batch leaves the reconciler's active index.
    const active = await stack.deps.store.listActiveBatches({});
    expect(active.items).not.toContain(batchName);
  });
});

describe("the batch status tracker", () => {
  it("a crash between a shard's write and its tracker update is repaired by the reconciler, and the change announced", async () => {
    const batchName = newBatchName("compute", new Date());
    await stack.deps.store.createBatch(
      {
        name: batchName,
        component: "compute",
        batchType: "batch",
        created: Date.now(),
        size: 2,
        groupCount: 0,
      },
      [],
      [],
    );
    // The jobs' changes written as a crashed process left them: the shard moved, the tracker did not.
    const shard = (await stack.deps.store.getShard(batchName, 0))!;
    await stack.deps.store.writeEntries({
      batchName,
      shard: 0,
      entries: [...shard.entries].map(([slot, entry]) => ({
        slot,
        next: finishWithoutBatch(entry, "Stopped", Date.now(), "Job was stopped"),
        expectedVersion: entry.v,
        previousStatus: entry.status,
      })),
    });
    expect(await stack.deps.store.getTracker(batchName)).toMatchObject({
      endedShards: [],
      status: "Waiting",
    });
    await reconcile(invocationDeps(stack.deps, { correlationId: "repair-test" }));
    expect(await stack.deps.store.getTracker(batchName)).toMatchObject({
      startedShards: [0],
      endedShards: [0],
      status: "Stopped",
      phase: "ended",
    });
    expect(batchEventsOf(batchName).map((e) => [e.detail.previousStatus, e.detail.status])).toEqual([
      ["Waiting", "Stopped"],
    ]);
  });
});

describe("every product event", () => {
  it("matches its documented schema and names what caused it", () => {
    const validators = {
      "Job Status Change": new Ajv2020({ strict: false }).compile(
        JSON.parse(readFileSync("docs/events/job-status-change.schema.json", "utf8")),
      ),
      "Batch Status Change": new Ajv2020({ strict: false }).compile(
        JSON.parse(readFileSync("docs/events/batch-status-change.schema.json", "utf8")),
      ),
    };
    const batchEventIds = new Set(
      readFileSync(join(stack.dataDir, "batch", "events.ndjson"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line).id),
    );
    const events = busEvents();
    expect(events.length).toBeGreaterThan(20);
    for (const event of events) {
      const validate = validators[event["detail-type"] as keyof typeof validators];
      expect(validate, event["detail-type"]).toBeDefined();
      expect(validate(event.detail) ? [] : validate.errors).toEqual([]);
      expect(event.detail.correlationId).toEqual(expect.any(String));
    }
    // Changes recorded from AWS Batch events are correlated by the Batch event's id.
    const fromBatch = events.filter(
      (e) =>
        e["detail-type"] === "Job Status Change" &&
        ["Active", "Running", "Succeeded"].includes(e.detail.status),
    );
    expect(fromBatch.every((e) => batchEventIds.has(e.detail.correlationId))).toBe(true);
  });
});
