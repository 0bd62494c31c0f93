import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "#lib/api/schemas.js";
import { reconcile } from "#lib/service/reconcile.js";
import { finalJob, sampleConfig, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  const config = sampleConfig((c) => {
    c.spec.jobs[0]!.retention = { succeeded: 2, failed: 1, maxAgeDays: 30 };
  });
  stack = await startTestStack({ config, batch: { mode: "status-only" }, reconcileEveryMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

describe("retention", () => {
  it("keeps the configured number of latest Succeeded and Failed jobs, and deletes older ones with their payloads", async () => {
    const names: string[] = [];
    for (let i = 0; i < 4; i++) {
      const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", { payload: `job ${i}` });
      names.push(created.body.name);
      await finalJob(stack, created.body.name);
    }
    const stopped = await stack.api<JobStatus>("POST", "/api/v1/jobs", { payload: "to stop" });
    await stack.api("POST", `/api/v1/jobs/${stopped.body.name}/stop`);
    await finalJob(stack, stopped.body.name);

    const report = await reconcile(stack.deps);
    expect(report.expired).toBeGreaterThanOrEqual(2);
    const listed = (await stack.api<JobStatus[]>("GET", "/api/v1/jobs")).body.map((job) => job.name);
    expect(listed).toEqual(expect.arrayContaining([names[3], names[2]]));
    expect(listed).not.toContain(names[1]);
    expect(listed).not.toContain(names[0]);
    expect((await stack.api("GET", `/api/v1/jobs/${names[0]}`)).status).toBe(404);
  });
});
