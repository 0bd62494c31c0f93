import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus } from "#lib/api/schemas.js";
import { parseJobName } from "#lib/domain/names.js";
import { eventually, finalJob, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ reconcileEveryMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

describe("job logs through the API", () => {
  it("returns a job's 1,000 lines in full, and with tail=10 exactly the last 10", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", { payload: '{"lines": 1000}' });
    await finalJob(stack, created.body.name);
    const full = await stack.api<string>("GET", `/api/v1/jobs/${created.body.name}/logs`);
    expect(full.status).toBe(200);
    const lines = full.body
      .trimEnd()
      .split("\n")
      .filter((line) => line.startsWith("line "));
    expect(lines).toEqual(Array.from({ length: 1000 }, (_, i) => `line ${i + 1}`));
    const tail = await stack.api<string>("GET", `/api/v1/jobs/${created.body.name}/logs?tail=10`);
    expect(tail.body.trimEnd().split("\n")).toEqual(Array.from({ length: 10 }, (_, i) => `line ${991 + i}`));
  });

  it("an array child's log is its own", async () => {
    const batch = await stack.api<{ name: string; jobStatuses: JobStatus[] }>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [{ payload: "first" }, { payload: "second" }],
    });
    const [a, b] = batch.body.jobStatuses;
    await finalJob(stack, a!.name);
    await finalJob(stack, b!.name);
    const logA = (await stack.api<string>("GET", `/api/v1/jobs/${a!.name}/logs`)).body;
    const logB = (await stack.api<string>("GET", `/api/v1/jobs/${b!.name}/logs`)).body;
    expect(logA).toContain("payload bytes=5 ");
    expect(logB).toContain("payload bytes=6 ");
  });

  it("a running job's output is readable while it runs, though its RUNNING is recorded in the shard's index alone", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", {
      payload: '{"lines": 30, "sleepSeconds": 3}',
    });
    const name = created.body.name;
    const running = await eventually(
      async () => {
        const job = (await stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`)).body;
        const log = (await stack.api<string>("GET", `/api/v1/jobs/${name}/logs`)).body;
        return job.status === "Running" && log.includes("line 1") ? log : undefined;
      },
      30_000,
      "a running job with output",
    );
    expect(running).toContain("line 1");
    // Its item was never written since it was created: the status and start come from the index.
    const parsed = parseJobName(name)!;
    const { jobs } = await stack.deps.store.readJobs(parsed.batchName, 0, [0], { withIndex: true });
    expect(jobs.get(0)!.item.status).toBe("Waiting");
    expect((await stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`)).body.started).toBeDefined();
    await finalJob(stack, name);
    const all = (await stack.api<string>("GET", `/api/v1/jobs/${name}/logs`)).body;
    expect(all.split("\n").filter((line) => line.startsWith("line "))).toHaveLength(30);
  });

  it("an unknown job's logs are a 404 and a bad tail a 422", async () => {
    expect(
      (await stack.api("GET", "/api/v1/jobs/batch-compute-20230220101417-idwsxncs-rkwaibwe/logs")).status,
    ).toBe(404);
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", {});
    expect((await stack.api("GET", `/api/v1/jobs/${created.body.name}/logs?tail=-1`)).status).toBe(422);
  });
});
