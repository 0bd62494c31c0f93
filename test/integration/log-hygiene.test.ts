import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import { eventually, FINAL, finalJob, startTestStack, type TestStack } from "./harness.js";

const SECRET = "s3cr3t-payload-7f2c91";
let stack: TestStack;
const captured: string[] = [];
const writes = {
  out: process.stdout.write.bind(process.stdout),
  err: process.stderr.write.bind(process.stderr),
};

beforeAll(async () => {
  const capture = (chunk: unknown) => {
    captured.push(String(chunk));
    return true;
  };
  process.stdout.write = capture as typeof process.stdout.write;
  process.stderr.write = capture as typeof process.stderr.write;
  stack = await startTestStack({ logger: new Logger({ serviceName: "test", logLevel: "DEBUG" }) });
});
afterAll(async () => {
  // What the tests started ends before the stack stops, so that nothing logs once the file is over
  // (vitest fails a run whose worker closes while a log line is on its way).
  if (stack)
    await eventually(
      async () => {
        const lists = await Promise.all([
          stack.api<{ status: string }[]>("GET", "/api/v1/batches"),
          stack.api<{ status: string }[]>("GET", "/api/v1/jobs"),
        ]);
        return lists.every(({ body }) => body.every((item) => FINAL.includes(item.status)));
      },
      30_000,
      "everything the tests started to end",
    );
  await stack?.stop();
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
});

describe("logs", () => {
  it("never contain a payload, accepted or refused", async () => {
    const created = await stack.api<{ name: string }>("POST", "/api/v1/jobs", {
      payload: `{"token": "${SECRET}"}`,
    });
    await finalJob(stack, created.body.name);
    await stack.api("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [{ payload: SECRET }, { payload: `${SECRET}-2` }],
    });
    await stack.api("POST", "/api/v1/jobs", { payload: SECRET.repeat(60_000) });
    await stack.api("POST", "/api/v1/jobs", { payload: SECRET, backoffLimit: -1 });
    await stack.api("POST", "/api/v1/jobs", `{"payload": "${SECRET}", `);
    await stack.api("POST", "/api/v1/jobs", { payload: SECRET, resources: { limits: { memory: SECRET } } });
    expect(captured.length).toBeGreaterThan(0);
    expect(captured.filter((line) => line.includes(SECRET))).toEqual([]);
  });

  it("carry one correlation id per request (the caller's x-correlation-id, else the API's request id), also for requests at once", async () => {
    const post = (correlationId?: string) =>
      fetch(`${stack.url}/api/v1/batches`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(correlationId ? { "x-correlation-id": correlationId } : {}),
        },
        body: JSON.stringify({ jobScheduleDescriptions: [{ payload: "{}" }, { payload: "{}" }] }),
      });
    const responses = await Promise.all([post("corr-a"), post("corr-b"), post()]);
    const ids = responses.map((response) => response.headers.get("x-correlation-id"));
    expect(ids.slice(0, 2)).toEqual(["corr-a", "corr-b"]);
    expect(ids[2]).toMatch(/^[0-9a-f-]{36}$/);
    const names = await Promise.all(
      responses.map(async (response) => ((await response.json()) as { name: string }).name),
    );
    const lines = logLines();
    names.forEach((name, i) => {
      const ofRequest = lines.filter(
        (line) =>
          line.batchName === name && ["batch recorded", "group submitted"].includes(String(line.message)),
      );
      expect(ofRequest.map((line) => line.message).sort()).toEqual(["batch recorded", "group submitted"]);
      expect(ofRequest.map((line) => line.correlation_id)).toEqual([ids[i], ids[i]]);
    });
  });

  it("of the events handler carry the SQS message id and the EventBridge event id of what they are about", async () => {
    const handler = createBatchEventsHandler(stack.deps);
    await handler({
      Records: [
        { messageId: "msg-1", body: JSON.stringify({ id: "evt-1", "detail-type": "Something Else" }) },
      ],
    });
    const dropped = logLines().filter(
      (line) => line.message === "not a Batch Job State Change event; dropped",
    );
    expect(dropped.at(-1)).toMatchObject({ messageId: "msg-1", correlation_id: "evt-1" });
  });
});

/** The JSON log lines written so far. */
function logLines(): Record<string, unknown>[] {
  return captured
    .join("")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
}
