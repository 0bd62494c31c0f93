import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "#lib/api/schemas.js";
import { reconcile } from "#lib/service/reconcile.js";
import { finalJob, sampleConfig, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  const config = sampleConfig((c) => {
    c.spec.jobs[0]!.retention = { succeeded: 2, failed: 1, maxAgeDays: 30 };
  });
  stack = await startTestStack({ config, reconcileEveryMs: 0 });
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
    const failed = await stack.api<JobStatus>("POST", "/api/v1/jobs", { payload: '{"exitCode": 1}' });
    expect((await finalJob(stack, failed.body.name)).status).toBe("Failed");

    const report = await reconcile(stack.deps);
    expect(report.expired).toBeGreaterThanOrEqual(2);
    const listed = (await stack.api<JobStatus[]>("GET", "/api/v1/jobs")).body.map((job) => job.name);
    expect(listed.sort()).toEqual([names[3], names[2], failed.body.name].sort());
    expect(listed).not.toContain(names[1]);
    expect(listed).not.toContain(names[0]);
    expect((await stack.api("GET", `/api/v1/jobs/${names[0]}`)).status).toBe(404);
  });
});
