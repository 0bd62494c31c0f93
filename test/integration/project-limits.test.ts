import { BatchClient, DescribeConsumableResourceCommand } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { resourceNames } from "#lib/config/runtime.js";
import { eventually, sampleConfig, startTestStack, type TestStack } from "./harness.js";

// A project capped at 2 running jobs, with enough emulator slots (8) that only the cap holds jobs back.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    config: sampleConfig((config) => {
      config.projects = [
        { name: "team-a", weight: 1, maxRunningJobs: 2 },
        { name: "team-b", weight: 1 },
      ];
    }),
  });
});
afterAll(async () => {
  await stack?.stop();
});

const ENDED = ["Succeeded", "Failed", "Stopped"];

describe("projects[].maxRunningJobs", () => {
  it("a project capped at 2 never has more than 2 Running across its batches and jobs; others are not held", async () => {
    const limit = resourceNames.projectLimit(stack.runtime.app, "team-a");
    const resource = () =>
      new BatchClient({}).send(new DescribeConsumableResourceCommand({ consumableResource: limit }));
    expect((await resource()).totalQuantity).toBe(2);

    const sleep = { payload: '{"sleepSeconds": 0.5}' };
    const batch = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
      // With a maxParallel of its own too: each job names both resources.
      maxParallel: 3,
      defaultRadixJobComponentConfig: { project: "team-a" },
      jobScheduleDescriptions: Array.from({ length: 4 }, () => sleep),
    });
    expect(batch.status, JSON.stringify(batch.body)).toBe(200);
    const single = await stack.api<JobStatus>("POST", "/api/v1/jobs", { ...sleep, project: "team-a" });
    const other = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
      defaultRadixJobComponentConfig: { project: "team-b" },
      // Long enough that its 4 jobs overlap however slowly a loaded machine starts their processes.
      jobScheduleDescriptions: Array.from({ length: 4 }, () => ({ payload: '{"sleepSeconds": 3}' })),
    });
    let most = 0;
    let mostInUse = 0;
    let mostOther = 0;
    const reasons = new Set<string>();
    await eventually(
      async () => {
        const [a, job, b, used] = await Promise.all([
          stack.api<BatchStatus>("GET", `/api/v1/batches/${batch.body.name}`),
          stack.api<JobStatus>("GET", `/api/v1/jobs/${single.body.name}`),
          stack.api<BatchStatus>("GET", `/api/v1/batches/${other.body.name}`),
          resource(),
        ]);
        most = Math.max(most, (a.body.jobCounts?.Running ?? 0) + (job.body.status === "Running" ? 1 : 0));
        mostInUse = Math.max(mostInUse, used.inUseQuantity ?? 0);
        mostOther = Math.max(mostOther, b.body.jobCounts?.Running ?? 0);
        for (const waiting of [...a.body.jobStatuses, job.body].filter((j) => j.status === "Waiting"))
          if (waiting.statusReason) reasons.add(waiting.statusReason);
        return [a.body.status, job.body.status, b.body.status].every((status) => ENDED.includes(status));
      },
      60_000,
      "every job to end",
    );
    expect(most).toBeGreaterThan(0);
    // What runs at once as AWS Batch counts it (the API's counts follow events, which a loaded machine
    // can deliver out of order: an end seen after the next job's start).
    expect(mostInUse).toBeGreaterThan(0);
    expect(mostInUse).toBeLessThanOrEqual(2);
    // A job held back says why: its project's cap (and its batch's maxParallel).
    expect([...reasons].some((reason) => reason.includes("project team-a runs at most 2 jobs at once"))).toBe(
      true,
    );
    // team-b has no cap: its 4 jobs ran side by side with team-a's.
    expect(mostOther).toBeGreaterThan(2);
    const done = await stack.api<BatchStatus>("GET", `/api/v1/batches/${batch.body.name}`);
    expect(done.body.jobCounts).toEqual({ Succeeded: 4 });
  }, 90_000);
});
