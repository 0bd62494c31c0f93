import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_ENDED, createBatch, finalBatch, startTestStack, type TestStack } from "./harness.js";

// Few slots, so that a batch is still mostly waiting when its first jobs end (issue 15).
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ batch: { maxConcurrentJobs: 2 } });
});
afterAll(async () => {
  await stack?.stop();
});

describe("stopPolicy", () => {
  it("a 50-job batch where 40 % fail, with maxFailedJobs 5, ends Failed early with most jobs never started", async () => {
    const jobs = Array.from({ length: 50 }, (_, i) => ({
      jobId: `j${i}`,
      payload: i % 5 < 2 ? '{"exitCode": 3}' : "{}",
    }));
    const created = await createBatch(stack, {
      jobScheduleDescriptions: jobs,
      stopPolicy: { maxFailedJobs: 5 },
    });
    expect(created.stopPolicy).toEqual({ maxFailedJobs: 5 });
    const done = await finalBatch(stack, created.name, { limit: 1000 });
    expect(done.status).toBe("Failed");
    expect(done.message).toMatch(/stopPolicy\.maxFailedJobs \(5\) exceeded/);
    expect(done.jobStatuses).toHaveLength(50);
    const neverStarted = done.jobStatuses.filter((job) => job.podStatuses.length === 0);
    expect(neverStarted.length).toBeGreaterThan(25);
    expect(done.jobCounts?.Failed ?? 0).toBeGreaterThanOrEqual(6);
    expect(done.jobCounts?.Failed ?? 0).toBeLessThan(20);
    expect(done.jobStatuses.every((job) => BATCH_ENDED.includes(job.status))).toBe(true);
  });

  it("minSucceededJobs stops the batch once too few jobs can still succeed", async () => {
    const jobs = Array.from({ length: 10 }, (_, i) => ({ payload: i < 3 ? '{"exitCode": 1}' : "{}" }));
    const created = await createBatch(stack, {
      jobScheduleDescriptions: jobs,
      stopPolicy: { minSucceededJobs: 9 },
    });
    const done = await finalBatch(stack, created.name, { limit: 1000 });
    expect(done.status).toBe("Failed");
    expect(done.message).toMatch(/stopPolicy\.minSucceededJobs \(9\) can no longer be met/);
  });

  it("a batch whose threshold is never crossed ends as it would without one", async () => {
    const jobs = [{ payload: '{"exitCode": 1}' }, { payload: "{}" }, { payload: "{}" }];
    const created = await createBatch(stack, {
      jobScheduleDescriptions: jobs,
      stopPolicy: { maxFailedJobs: 1 },
    });
    const done = await finalBatch(stack, created.name, { limit: 1000 });
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

describe("canary", () => {
  it("a canary of 2 with a failing job stops the batch with 2 attempts in total", async () => {
    const submitsBefore = stack.batch.stats().SubmitJob ?? 0;
    const jobs = [
      { payload: '{"exitCode": 1}' },
      { payload: '{"sleepSeconds": 1}' },
      ...Array.from({ length: 8 }, () => ({ payload: "{}" })),
    ];
    const created = await createBatch(stack, { jobScheduleDescriptions: jobs, canary: { jobs: 2 } });
    expect(created.canary).toEqual({ jobs: 2, passed: null });
    expect(created.jobStatuses[5]?.statusReason).toMatch(/held until the batch's canary/);
    const done = await finalBatch(stack, created.name, { limit: 1000 });
    expect(done.status).toBe("Failed");
    expect(done.message).toMatch(/^canary: job .* ended Failed; the rest of the batch was never submitted/);
    const attempts = done.jobStatuses.reduce((total, job) => total + job.podStatuses.length, 0);
    expect(attempts).toBe(2);
    // Only the canary's array job was ever submitted.
    expect((stack.batch.stats().SubmitJob ?? 0) - submitsBefore).toBe(1);
    expect(done.jobStatuses.slice(2).every((job) => job.status === "Stopped")).toBe(true);
  });

  it("a canary that succeeds releases the rest of the batch", async () => {
    const jobs = Array.from({ length: 10 }, (_, i) => ({ jobId: `c${i}` }));
    const created = await createBatch(stack, { jobScheduleDescriptions: jobs, canary: { percent: 15 } });
    expect(created.canary).toMatchObject({ jobs: 2, percent: 15 });
    const groups = await stack.deps.store.listGroups(created.name);
    expect(groups.map((group) => [group.offset, group.size])).toEqual([
      [0, 2],
      [2, 8],
    ]);
    const done = await finalBatch(stack, created.name, { limit: 1000 });
    expect(done.status).toBe("Succeeded");
    expect(done.canary?.passed).toEqual(expect.any(String));
    expect(done.jobStatuses.map((job) => job.jobId)).toEqual(jobs.map((job) => job.jobId));
  });

  it("refuses a canary that takes the whole batch, or names both forms, with 422", async () => {
    for (const canary of [{ jobs: 3 }, { jobs: 1, percent: 10 }, { percent: 100 }]) {
      const response = await stack.api<{ message: string }>("POST", "/api/v1/batches", {
        jobScheduleDescriptions: [{}, {}, {}],
        canary,
      });
      expect(response.status, JSON.stringify(canary)).toBe(422);
      expect(response.body.message).toContain("canary");
    }
  });
});
