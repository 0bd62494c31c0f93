import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finalJob, startTestStack, type TestStack } from "./harness.js";

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
});
