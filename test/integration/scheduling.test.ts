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
    // Four blockers hold every slot until both projects' jobs wait in AWS Batch, so the share is
    // measured from a start where neither project got ahead by arriving first.
    const blockers = await shared.api<BatchStatus>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: Array.from({ length: 4 }, () => ({ payload: '{"sleepSeconds": 4}' })),
    });
    expect(blockers.status, JSON.stringify(blockers.body)).toBe(200);
    await eventually(async () => {
      const { body } = await shared.api<BatchStatus>("GET", `/api/v1/batches/${blockers.body.name}`);
      return body.jobCounts?.Running === 4;
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
    // When each child ran, to the millisecond, from AWS Batch (the emulator) itself.
    const runs: { project: string; start: number; stop: number }[] = [];
    for (const [project, name] of [
      ["team-a", a!],
      ["team-b", b!],
    ] as const) {
      const [group] = await shared.deps.store.listGroups(name);
      const children = Array.from({ length: sizes[project]! }, (_, index) => `${group!.batchJobId}:${index}`);
      for (const view of await shared.deps.batch.describe(children))
        runs.push({ project, start: view.startedAt ?? Number.NaN, stop: view.stoppedAt ?? Number.NaN });
    }
    expect(runs.every((run) => Number.isFinite(run.start) && Number.isFinite(run.stop))).toBe(true);
    // The capacity each project used while both had jobs waiting for it: from when the blockers freed
    // the slots (the first start of either) to the last start of whichever project ran out of waiting
    // jobs first. Running time, not the number of starts, is what the weights share.
    const lastStart = (project: string) =>
      Math.max(...runs.filter((run) => run.project === project).map((run) => run.start));
    const from = Math.min(...runs.map((run) => run.start));
    const to = Math.min(lastStart("team-a"), lastStart("team-b"));
    const used = (project: string) =>
      runs
        .filter((run) => run.project === project)
        .reduce((sum, run) => sum + Math.max(0, Math.min(run.stop, to) - Math.max(run.start, from)), 0);
    const shareOfA = used("team-a") / (used("team-a") + used("team-b"));
    // Weight share 3 / (3 + 1) = 0.75, within 20 %: 0.6 to 0.9.
    expect(shareOfA).toBeGreaterThanOrEqual(0.6);
    expect(shareOfA).toBeLessThanOrEqual(0.9);
  });
});
