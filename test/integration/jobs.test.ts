import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import { eventually, FINAL, finalJob, startTestStack, type TestStack } from "./harness.js";

type Job = {
  name: string;
  status: string;
  exitCode?: number;
  message?: string;
  podStatuses: { exitCode?: number }[];
} & Record<string, unknown>;
type Result = { status: string; message: string; reason?: string; code: number };

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sha256 = (bytes: Buffer | string) => createHash("sha256").update(bytes).digest("hex");

async function createJob(body: unknown) {
  const response = await stack.api<Job>("POST", "/api/v1/jobs", body);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

describe("single jobs on the local stack", () => {
  it("runs the spec's base64 payload and the process sees exactly those bytes", async () => {
    const payload = "Sk9CX1BBUkFNMTogeHl6Cg==";
    const created = await createJob({ payload, jobId: "my-job-1" });
    expect(created).toMatchObject({ status: "Waiting", jobId: "my-job-1", started: null, ended: null });
    expect(created.name).toMatch(/^batch-compute-\d{14}-[a-z0-9]{8}-[a-z0-9]{8}$/);
    const done = await finalJob(stack, created.name);
    expect(done).toMatchObject({ status: "Succeeded", exitCode: 0 });
    // Why it waited and for how long: AWS Batch's own status and the time in each phase.
    expect(done).toMatchObject({
      batchJobStatus: "SUCCEEDED",
      phaseSeconds: { waiting: expect.any(Number), running: expect.any(Number) },
    });
    expect(done.phaseSeconds!.waiting + done.phaseSeconds!.running).toBeGreaterThan(0);
    expect(done.started).toEqual(expect.any(String));
    expect(done.ended).toEqual(expect.any(String));
    const logs = await stack.api<string>("GET", `/api/v1/jobs/${created.name}/logs`);
    expect(logs.status).toBe(200);
    expect(logs.body).toContain(`payload bytes=${payload.length} sha256=${sha256(payload)}`);
  });

  it("a job that exits with code 3 ends Failed with exit code 3 in its status", async () => {
    const created = await createJob({ payload: JSON.stringify({ exitCode: 3 }) });
    const done = await finalJob(stack, created.name);
    expect(done.status).toBe("Failed");
    expect(done.exitCode).toBe(3);
    expect(done.podStatuses.at(-1)?.exitCode).toBe(3);
    expect(done.message).toContain("exit code 3");
  });

  it("stopping a sleeping job ends it Stopped", async () => {
    const created = await createJob({ payload: JSON.stringify({ sleepSeconds: 30 }) });
    await eventually(
      async () => (await stack.api<Job>("GET", `/api/v1/jobs/${created.name}`)).body.status === "Running",
    );
    const stop = await stack.api<Result>("POST", `/api/v1/jobs/${created.name}/stop`);
    expect({ status: stop.status, body: stop.body }).toEqual({
      status: 200,
      body: { status: "Success", message: `job ${created.name} successfully stopped`, code: 200 },
    });
    const done = await finalJob(stack, created.name);
    expect(done.status).toBe("Stopped");
    const again = await stack.api<Result>("POST", `/api/v1/jobs/${created.name}/stop`);
    expect(again.status).toBe(400);
    expect(again.body).toMatchObject({ status: "Failure", reason: "BadRequest" });
  });

  it("a deleted job is gone", async () => {
    const created = await createJob({ payload: "x" });
    const deleted = await stack.api<Result>("DELETE", `/api/v1/jobs/${created.name}`);
    expect(deleted.body).toEqual({
      status: "Success",
      message: `job ${created.name} successfully deleted`,
      code: 200,
    });
    const after = await stack.api<Result>("GET", `/api/v1/jobs/${created.name}`);
    expect(after.status).toBe(404);
    expect(after.body).toMatchObject({
      status: "Failure",
      reason: "NotFound",
      code: 404,
      message: `job ${created.name} not found`,
    });
  });

  it("lists single jobs, newest first", async () => {
    const created = await createJob({ jobId: "listed" });
    const list = await stack.api<Job[]>("GET", "/api/v1/jobs");
    expect(list.status).toBe(200);
    expect(list.body[0]?.name).toBe(created.name);
    expect(list.body.every((job) => job.batchName === undefined)).toBe(true);
    await finalJob(stack, created.name);
  });

  it("replayed and reordered events leave the right final status", async () => {
    const created = await createJob({ payload: JSON.stringify({ exitCode: 4 }) });
    const done = await finalJob(stack, created.name);
    // events.ndjson has an event once its delivery is done, a moment after its change is recorded.
    const events = await eventually(async () => {
      const found = readFileSync(join(stack.dataDir, "batch", "events.ndjson"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .filter((event) => event.detail.jobName === created.name);
      return found.some((event) => event.detail.status === "FAILED") ? found : undefined;
    });
    expect(events.map((event) => event.detail.status)).toEqual(
      expect.arrayContaining(["RUNNABLE", "RUNNING", "FAILED"]),
    );
    const handler = createBatchEventsHandler(stack.deps);
    for (const event of [...events].reverse()) await handler(event);
    for (const event of events) await handler(event);
    const after = await stack.api<Job>("GET", `/api/v1/jobs/${created.name}`);
    expect(after.body).toEqual(done);
    expect(FINAL).toContain(after.body.status);
  });
});
