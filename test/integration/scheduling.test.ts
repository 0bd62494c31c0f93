import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { eventually, finalJob, sampleConfig, startTestStack, type TestStack } from "./harness.js";

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

describe("fair share between projects", () => {
  let shared: TestStack;
  beforeAll(async () => {
    shared = await startTestStack({
      config: sampleConfig((config) => {
        config.projects = [
          { name: "team-a", weight: 3 },
          { name: "team-b", weight: 1 },
        ];
      }),
      batch: { maxConcurrentJobs: 4 },
    });
  });
  afterAll(async () => {
    await shared?.stop();
  });

  it("two projects with weights 3 and 1 share the capacity 3:1 (within 20 %)", async () => {
    const sizes: Record<string, number> = { "team-a": 30, "team-b": 15 };
    const batchOf = (project: string) => ({
      defaultRadixJobComponentConfig: { project },
      jobScheduleDescriptions: Array.from({ length: sizes[project]! }, () => ({
        payload: '{"sleepSeconds": 0.3}',
      })),
    });
    const [a, b] = await Promise.all(
      ["team-a", "team-b"].map(async (project) => {
        const created = await shared.api<BatchStatus>("POST", "/api/v1/batches", batchOf(project));
        expect(created.status, JSON.stringify(created.body)).toBe(200);
        expect(created.body.project).toBe(project);
        return created.body.name;
      }),
    );
    await Promise.all(
      [a!, b!].map((name) =>
        eventually(
          async () => {
            const { body } = await shared.api<BatchStatus>("GET", `/api/v1/batches/${name}`);
            return body.status === "Succeeded";
          },
          120_000,
          `batch ${name} to succeed`,
        ),
      ),
    );
    // When each child started, to the millisecond, from AWS Batch (the emulator) itself.
    const starts: { project: string; at: number }[] = [];
    for (const [project, name] of [
      ["team-a", a!],
      ["team-b", b!],
    ] as const) {
      const [group] = await shared.deps.store.listGroups(name);
      const children = Array.from({ length: sizes[project]! }, (_, index) => `${group!.batchJobId}:${index}`);
      for (const view of await shared.deps.batch.describe(children))
        starts.push({ project, at: view.startedAt ?? Number.POSITIVE_INFINITY });
    }
    starts.sort((x, y) => x.at - y.at);
    expect(starts.every((start) => Number.isFinite(start.at))).toBe(true);
    // From the moment both projects have jobs in AWS Batch, while both still wait for capacity: the next
    // 20 starts (15 and 5 by weight).
    const from = starts.findIndex((start) => start.project === "team-b");
    const window = starts.slice(from, from + 20);
    const shareOfA = window.filter((start) => start.project === "team-a").length / window.length;
    expect(shareOfA).toBeGreaterThanOrEqual(0.75 * 0.8);
    expect(shareOfA).toBeLessThanOrEqual(0.75 * 1.2);
  });
});
