import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus } from "#lib/api/schemas.js";
import { eventually, startTestStack, type TestStack } from "./harness.js";

// Few slots, so that a batch is still mostly waiting when its first jobs end (issue 15).
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ batch: { maxConcurrentJobs: 2 } });
});
afterAll(async () => {
  await stack?.stop();
});

const ENDED = ["Succeeded", "Failed", "Stopped"];

async function createBatch(body: unknown) {
  const response = await stack.api<BatchStatus>("POST", "/api/v1/batches", body);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

async function finalBatch(name: string, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const { body } = await stack.api<BatchStatus>("GET", `/api/v1/batches/${name}?limit=1000`);
      return ENDED.includes(body.status) ? body : undefined;
    },
    timeoutMs,
    `batch ${name} to end`,
  );
}

describe("stopPolicy", () => {
  it("a 50-job batch where 40 % fail, with maxFailedJobs 5, ends Failed early with most jobs never started", async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => ({
      jobId: `j${i}`,
      payload: i % 5 < 2 ? '{"exitCode": 3}' : "{}",
    }));
    const created = await createBatch({ jobScheduleDescriptions: jobs, stopPolicy: { maxFailedJobs: 5 } });
    expect(created.stopPolicy).toEqual({ maxFailedJobs: 5 });
    const done = await finalBatch(created.name);
    expect(done.status).toBe("Failed");
    expect(done.message).toMatch(/stopPolicy\.maxFailedJobs \(5\) exceeded/);
    expect(done.jobStatuses).toHaveLength(50);
    const neverStarted = done.jobStatuses.filter((job) => job.podStatuses.length === 0);
    expect(neverStarted.length).toBeGreaterThan(25);
    expect(done.jobCounts?.Failed ?? 0).toBeGreaterThanOrEqual(6);
    expect(done.jobCounts?.Failed ?? 0).toBeLessThan(20);
    expect(done.jobStatuses.every((job) => ENDED.includes(job.status))).toBe(true);
  });

  it("minSucceededJobs stops the batch once too few jobs can still succeed", async () => {
    const jobs = Array.from({ length: 10 }, (_, i) => ({ payload: i < 3 ? '{"exitCode": 1}' : "{}" }));
    const created = await createBatch({ jobScheduleDescriptions: jobs, stopPolicy: { minSucceededJobs: 9 } });
    const done = await finalBatch(created.name);
    expect(done.status).toBe("Failed");
    expect(done.message).toMatch(/stopPolicy\.minSucceededJobs \(9\) can no longer be met/);
  });

  it("a batch whose threshold is never crossed ends as it would without one", async () => {
    const jobs = [{ payload: '{"exitCode": 1}' }, { payload: "{}" }, { payload: "{}" }];
    const created = await createBatch({ jobScheduleDescriptions: jobs, stopPolicy: { maxFailedJobs: 1 } });
    const done = await finalBatch(created.name);
    expect(done.status).toBe("Failed");
    expect(done.message).toBeUndefined();
    expect(done.jobCounts).toEqual({ Succeeded: 2, Failed: 1 });
  });

  it("refuses a bad stopPolicy with 422 naming the field", async () => {
    const tooMany = await stack.api<{ message: string }>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [{}, {}],
      stopPolicy: { minSucceededJobs: 3 },
    });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.message).toContain("stopPolicy.minSucceededJobs");
    const empty = await stack.api<{ message: string }>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [{}],
      stopPolicy: {},
    });
    expect(empty.status).toBe(422);
    expect(empty.body.message).toContain("stopPolicy");
    const negative = await stack.api<{ message: string }>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [{}],
      stopPolicy: { maxFailedJobs: -1 },
    });
    expect(negative.status).toBe(422);
    expect(negative.body.message).toContain("stopPolicy.maxFailedJobs");
  });
});
