import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import {
  eventually,
  finalJob,
  sampleConfig,
  startTestStack,
  startWebhookReceiver,
  type TestStack,
  type WebhookReceiver,
} from "./harness.js";

type Notification = BatchStatus & { event: string };
let stack: TestStack;
let receiver: WebhookReceiver;
const received: Notification[] = [];
let failuresLeft = 3;

beforeAll(async () => {
  receiver = await startWebhookReceiver((body) => {
    if (failuresLeft > 0) {
      failuresLeft--;
      return 500;
    }
    received.push(body as Notification);
    return 200;
  });
  const url = receiver.url;
  const config = sampleConfig((c) => {
    c.spec.jobs[0]!.notifications = { webhook: url };
  });
  stack = await startTestStack({ config, reconcileEveryMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
});

const statusesOf = (name: string) =>
  received.flatMap((n) => n.jobStatuses.filter((job) => job.name === name).map((job) => job.status));

describe("Radix webhook notifications", () => {
  it("a receiver that fails three times still gets every status change of a job, in order", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", { payload: "{}" });
    await finalJob(stack, created.body.name);
    await eventually(
      async () => statusesOf(created.body.name).includes("Succeeded"),
      20_000,
      "the Succeeded notification",
    );
    expect(statusesOf(created.body.name)).toEqual(["Active", "Running", "Succeeded"]);
    const last = received.at(-1)!;
    expect(last).toMatchObject({ event: "Update", batchType: "job", name: expect.any(String) });
    expect(last.jobStatuses).toHaveLength(1);
  });

  it("each job of a batch is notified with the batch's status", async () => {
    const batch = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [{ payload: "{}" }, { payload: '{"exitCode": 1}' }],
    });
    const [ok, failing] = batch.body.jobStatuses;
    await eventually(
      async () => statusesOf(ok!.name).includes("Succeeded") && statusesOf(failing!.name).includes("Failed"),
      20_000,
      "both final notifications",
    );
    expect(statusesOf(ok!.name)).toEqual(["Active", "Running", "Succeeded"]);
    expect(statusesOf(failing!.name)).toEqual(["Active", "Running", "Failed"]);
    const forBatch = received.filter((n) => n.name === batch.body.name);
    expect(forBatch.every((n) => n.batchType === "batch" && n.event === "Update")).toBe(true);
    await eventually(async () => {
      const latest = (await stack.api<BatchStatus>("GET", `/api/v1/batches/${batch.body.name}`)).body;
      return latest.status === "Failed";
    });
  });

  it("every status change is also a product event matching the documented schema", () => {
    const schemas = {
      "Job Status Change": "docs/events/job-status-change.schema.json",
      "Batch Status Change": "docs/events/batch-status-change.schema.json",
    };
    const validators = Object.fromEntries(
      Object.entries(schemas).map(([type, file]) => [
        type,
        new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(file, "utf8"))),
      ]),
    );
    const lines = readFileSync(join(stack.dataDir, "product-events.ndjson"), "utf8").trim().split("\n");
    expect(lines.length).toBeGreaterThanOrEqual(9);
    for (const line of lines) {
      const event = JSON.parse(line);
      const validate = validators[event["detail-type"]];
      expect(validate, event["detail-type"]).toBeDefined();
      expect(validate!(event.detail) ? [] : validate!.errors).toEqual([]);
    }
  });
});

describe("the documented product event schemas", () => {
  it.each(["job-status-change.schema.json", "batch-status-change.schema.json"] as const)(
    "docs/events/%s is what `npm run openapi` generates from the zod schema",
    async (file) => {
      const { productEventSchemas } = await import("#lib/api/write-openapi.js");
      const documented = JSON.parse(readFileSync(`docs/events/${file}`, "utf8"));
      expect(documented).toEqual(JSON.parse(JSON.stringify(productEventSchemas()[file])));
    },
  );
});
