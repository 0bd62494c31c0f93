import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "#lib/api/schemas.js";
import { eventually, finalJob, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  // One process slot, so jobs queue in the emulator and its scheduling order shows.
  stack = await startTestStack({ batch: { maxConcurrentJobs: 1 } });
});
afterAll(async () => {
  await stack?.stop();
});

async function create(body: unknown): Promise<JobStatus> {
  const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", body);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body;
}

const batchStatusOf = async (name: string) =>
  (await stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`)).body.batchJobStatus;

describe("priority", () => {
  it("a priority change reorders waiting jobs: the raised job starts before earlier ones", async () => {
    const blocker = await create({ payload: '{"sleepSeconds": 4}' });
    await eventually(async () => (await batchStatusOf(blocker.name)) === "RUNNING");
    const early = [
      await create({ payload: "{}" }),
      await create({ payload: "{}" }),
      await create({ payload: "{}" }),
    ];
    const late = await create({ payload: "{}" });
    await eventually(async () => (await batchStatusOf(late.name)) === "RUNNABLE");

    const raised = await stack.api<JobStatus>("PATCH", `/api/v1/jobs/${late.name}`, { priority: 100 });
    expect(raised.status, JSON.stringify(raised.body)).toBe(200);
    expect(raised.body.priority).toBe(100);

    const done = await Promise.all([...early, late].map((job) => finalJob(stack, job.name, 60_000)));
    expect(done.map((job) => job.status)).toEqual(["Succeeded", "Succeeded", "Succeeded", "Succeeded"]);
    const startOf = (job: JobStatus) => Date.parse(job.started ?? "");
    const lateDone = done[3]!;
    for (const earlier of done.slice(0, 3)) expect(startOf(lateDone)).toBeLessThanOrEqual(startOf(earlier));
    // It ran once: the cancelled waiting submission never started a process.
    expect(lateDone.podStatuses).toHaveLength(1);

    const finished = await stack.api<{ message: string }>("PATCH", `/api/v1/jobs/${late.name}`, {
      priority: 5,
    });
    expect(finished.status).toBe(400);
    expect(finished.body.message).toContain("no longer waiting");
  });

  it("a priority given at creation orders waiting jobs; a bad priority is a 422", async () => {
    const blocker = await create({ payload: '{"sleepSeconds": 3}' });
    await eventually(async () => (await batchStatusOf(blocker.name)) === "RUNNING");
    const low = await create({ payload: "{}", priority: 1 });
    const high = await create({ payload: "{}", priority: 9 });
    const [lowDone, highDone] = await Promise.all([finalJob(stack, low.name), finalJob(stack, high.name)]);
    expect(Date.parse(highDone.started ?? "")).toBeLessThanOrEqual(Date.parse(lowDone.started ?? ""));
    const bad = await stack.api<{ code: number }>("POST", "/api/v1/jobs", { priority: 10_000 });
    expect(bad.status).toBe(422);
  });
});
