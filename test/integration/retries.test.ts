import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "#lib/api/schemas.js";
import { finalJob, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    reconcileEveryMs: 300,
    reconcile: { staleAfterMs: 60_000, resumeAfterMs: 1_000 },
  });
});
afterAll(async () => {
  await stack?.stop();
});

async function run(body: unknown): Promise<JobStatus> {
  const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", body);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return finalJob(stack, created.body.name, 60_000);
}

describe("retries and time limits", () => {
  it("honours backoffLimit exactly beyond AWS Batch's 10 attempts", async () => {
    const done = await run({ payload: '{"exitCode": 1}', backoffLimit: 11 });
    expect(done.status).toBe("Failed");
    expect(done.podStatuses).toHaveLength(12);
    expect(done.failed).toBe(12);
    expect(done.podStatuses.every((pod) => pod.exitCode === 1)).toBe(true);
  });

  it("a failurePolicy FailJob rule ends the job at its first matching failure", async () => {
    const done = await run({
      payload: '{"exitCode": 42}',
      backoffLimit: 5,
      failurePolicy: { rules: [{ action: "FailJob", onExitCodes: { operator: "In", values: [42] } }] },
    });
    expect(done.status).toBe("Failed");
    expect(done.podStatuses).toHaveLength(1);
  });

  it("a failurePolicy Ignore rule retries without spending the backoff budget, until the time limit", async () => {
    const done = await run({
      payload: '{"exitCode": 3}',
      backoffLimit: 0,
      timeLimitSeconds: 8,
      failurePolicy: { rules: [{ action: "Ignore", onExitCodes: { operator: "In", values: [3] } }] },
    });
    expect(done.status).toBe("DeadlineExceeded");
    expect(done.podStatuses.length).toBeGreaterThan(1);
  });

  it("a time limit under AWS Batch's 60-second minimum ends the job DeadlineExceeded", async () => {
    const done = await run({ payload: '{"sleepSeconds": 30}', timeLimitSeconds: 2 });
    expect(done.status).toBe("DeadlineExceeded");
    expect(done.message).toContain("deadline");
  });
});
