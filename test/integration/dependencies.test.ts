import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { DEFAULT_RECONCILE_OPTIONS, reconcile } from "#lib/service/reconcile.js";
import { createBatch, eventually, finalBatch, finalJob, startTestStack, type TestStack } from "./harness.js";

// dependsOn (issue 15). The reconciler is off so that every decision here is the events path's (or the
// creation's); its own pass is exercised in the last test.
let stack: TestStack;
/** Batches whose jobs' SUCCEEDED events are lost on the way to the events handler. */
const droppedFinalEvents = new Set<string>();
const isDropped = (record: { body: string }) => {
  const detail = (
    JSON.parse(record.body) as { detail?: { status?: string; parameters?: Record<string, string> } }
  ).detail;
  return detail?.status === "SUCCEEDED" && droppedFinalEvents.has(detail.parameters?.schedBatch ?? "");
};
beforeAll(async () => {
  stack = await startTestStack({
    reconcileEveryMs: 0,
    batch: { maxConcurrentJobs: 8 },
    wrapEventHandler: (handler) => (event) => {
      const records = (event as { Records?: { body: string }[] }).Records;
      return handler(records ? { Records: records.filter((record) => !isDropped(record)) } : event);
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

/** How long these tests wait for a batch to end. */
const BATCH_WAIT = { timeoutMs: 30_000 };

async function createJob(body: unknown) {
  const response = await stack.api<JobStatus>("POST", "/api/v1/jobs", body);
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

const time = (text: string | null | undefined) => Date.parse(String(text));

// Independent of each other (own batches), so run side by side to keep the file short.
describe.concurrent("dependsOn between batches", () => {
  it("B dependsOn A succeeded waits, shows why, and starts only after A ended Succeeded", async () => {
    const a = await createBatch(stack, {
      jobScheduleDescriptions: [{ payload: '{"sleepSeconds": 0.6}' }, { payload: '{"sleepSeconds": 0.3}' }],
    });
    const b = await createBatch(stack, {
      dependsOn: [{ name: a.name, condition: "succeeded" }],
      jobScheduleDescriptions: [{}, {}],
    });
    expect(b.status).toBe("Waiting");
    expect(b.dependsOn).toEqual([{ name: a.name, condition: "succeeded" }]);
    expect(b.dependenciesMet).toBeNull();
    expect(b.statusReason).toBe(`waiting for batch ${a.name} to succeed (dependsOn)`);
    expect(b.jobStatuses[0]!.statusReason).toContain(`batch ${a.name} to succeed`);

    const doneA = await finalBatch(stack, a.name, BATCH_WAIT);
    const doneB = await finalBatch(stack, b.name, BATCH_WAIT);
    expect(doneA.status).toBe("Succeeded");
    expect(doneB.status).toBe("Succeeded");
    expect(doneB.dependenciesMet).not.toBeNull();
    const firstStartOfB = Math.min(...doneB.jobStatuses.map((job) => time(job.started)));
    expect(firstStartOfB).toBeGreaterThanOrEqual(time(doneA.ended));
  });

  it("when A fails, B (waiting for it to succeed) ends Stopped with a message naming A, never started", async () => {
    const a = await createBatch(stack, {
      jobScheduleDescriptions: [{ payload: '{"exitCode": 2}' }, { payload: "{}" }],
    });
    const b = await createBatch(stack, {
      dependsOn: [{ name: a.name }],
      jobScheduleDescriptions: [{}, {}, {}],
    });
    // And one that runs only if A failed.
    const cleanup = await createJob({
      dependsOn: [{ name: a.name, condition: "failed" }],
    });
    expect((await finalBatch(stack, a.name, BATCH_WAIT)).status).toBe("Failed");
    const doneB = await finalBatch(stack, b.name, BATCH_WAIT);
    expect(doneB.status).toBe("Stopped");
    expect(doneB.message).toContain(`batch ${a.name} ended Failed`);
    expect(doneB.message).toContain("to succeed");
    for (const job of doneB.jobStatuses) {
      expect(job.status).toBe("Stopped");
      expect(job.podStatuses).toEqual([]);
      expect(job.message).toContain(a.name);
    }
    expect((await finalJob(stack, cleanup.name)).status).toBe("Succeeded");
    // A restart runs it all the same, and the reconciler does not judge it again.
    expect((await stack.api("POST", `/api/v1/batches/${b.name}/restart`)).status).toBe(200);
    await reconcile(stack.deps, { ...DEFAULT_RECONCILE_OPTIONS, staleAfterMs: 0 });
    await eventually(
      async () =>
        (await stack.api<BatchStatus>("GET", `/api/v1/batches/${b.name}`)).body.status === "Succeeded",
      20_000,
      "the restarted B to succeed",
    );
  });

  it("a dependency that already ended is judged at creation: ended is met by a failure", async () => {
    const a = await createJob({ payload: '{"exitCode": 1}' });
    expect((await finalJob(stack, a.name)).status).toBe("Failed");
    const b = await createJob({ dependsOn: [{ name: a.name, condition: "ended" }] });
    expect(b.dependsOn).toEqual([{ name: a.name, condition: "ended" }]);
    const done = await finalJob(stack, b.name);
    expect(done.status).toBe("Succeeded");
    expect(time(done.started)).toBeGreaterThanOrEqual(time((await finalJob(stack, a.name)).ended));
  });

  it("a stopped dependency stops its dependent, whatever the condition", async () => {
    const a = await createJob({ payload: '{"sleepSeconds": 30}' });
    const b = await createJob({ dependsOn: [{ name: a.name, condition: "ended" }] });
    expect(b.statusReason).toBe(`waiting for job ${a.name} to end (dependsOn)`);
    expect((await stack.api("POST", `/api/v1/jobs/${a.name}/stop`)).status).toBe(200);
    const done = await finalJob(stack, b.name);
    expect(done.status).toBe("Stopped");
    expect(done.message).toBe(
      `dependsOn: job ${a.name} was stopped, but this waited for it to end; never started`,
    );
  });

  it("elementwise: job i of B starts only after job i of A ended, not after all of A", async () => {
    // Job 0 of A is quick; job 1 runs until it is stopped; job 2 fails.
    const a = await createBatch(stack, {
      jobScheduleDescriptions: [
        { payload: '{"sleepSeconds": 0.2}' },
        { payload: '{"sleepSeconds": 60}' },
        { payload: '{"exitCode": 4}' },
      ],
    });
    const b = await createBatch(stack, {
      dependsOn: [{ name: a.name, elementwise: true }],
      jobScheduleDescriptions: [{ jobId: "b0" }, { jobId: "b1" }, { jobId: "b2" }],
    });
    const [a0, a1, a2] = a.jobStatuses.map((job) => job.name) as [string, string, string];
    const [b0, b1, b2] = b.jobStatuses.map((job) => job.name) as [string, string, string];
    expect(b.jobStatuses[1]!.statusReason).toContain(`job ${a1} (elementwise`);
    const job = async (batch: string, name: string | undefined) =>
      (await stack.api<JobStatus>("GET", `/api/v1/batches/${batch}/jobs/${name}`)).body;
    // Job 0 of B runs and ends while job 1 of A still runs, and job 1 of B still waits for it.
    const doneB0 = await eventually(
      async () => {
        const view = await job(b.name, b0);
        return view.status === "Succeeded" ? view : undefined;
      },
      20_000,
      "job 0 of B to succeed",
    );
    expect(time(doneB0.started)).toBeGreaterThanOrEqual(time((await job(a.name, a0)).ended));
    expect((await job(a.name, a1)).status).toBe("Running");
    const waiting = await job(b.name, b1);
    expect(waiting.status).toBe("Waiting");
    expect(waiting.statusReason).toBe(
      `waiting for job ${a1} (elementwise, of batch ${a.name}) to succeed (dependsOn)`,
    );
    // Job 1 of A is stopped, job 2 failed: their partners never run and name them.
    expect((await stack.api("POST", `/api/v1/batches/${a.name}/jobs/${a1}/stop`)).status).toBe(200);
    const doneB = await finalBatch(stack, b.name, BATCH_WAIT);
    const byName = new Map(doneB.jobStatuses.map((view) => [view.name, view]));
    expect(byName.get(b1)).toMatchObject({ status: "Stopped", podStatuses: [] });
    expect(byName.get(b1)!.message).toContain(`job ${a1} (elementwise, of batch ${a.name}) was stopped`);
    expect(byName.get(b2)).toMatchObject({ status: "Stopped", podStatuses: [] });
    expect(byName.get(b2)!.message).toContain(`job ${a2} (elementwise, of batch ${a.name}) ended Failed`);
    expect(doneB.status).toBe("Stopped");
  });
});

describe("dependsOn refused at creation", () => {
  const refuse = async (path: string, body: unknown, message: string) => {
    const response = await stack.api<{ status: string; code: number; reason: string; message: string }>(
      "POST",
      path,
      body,
    );
    expect(response.status, JSON.stringify(response.body)).toBe(422);
    expect(response.body).toMatchObject({ status: "Failure", code: 422, reason: "Invalid" });
    expect(response.body.message).toContain(message);
  };

  it("an unknown name, which is also how a job naming itself or a later job is refused (no cycles)", async () => {
    const unknown = "batch-compute-20990101000000-abcdefgh";
    await refuse(
      "/api/v1/batches",
      { dependsOn: [{ name: unknown }], jobScheduleDescriptions: [{}] },
      unknown,
    );
    await refuse("/api/v1/jobs", { dependsOn: [{ name: `${unknown}-abcdefgh` }] }, "dependsOn[0].name");
    await refuse("/api/v1/jobs", { dependsOn: [{ name: "not a name" }] }, "is not a job or batch name");
  });

  it("bad shapes: elementwise of different sizes or from a job, per-job dependsOn, a bad condition", async () => {
    const a = await createBatch(stack, { jobScheduleDescriptions: [{}, {}] });
    await refuse(
      "/api/v1/batches",
      { dependsOn: [{ name: a.name, elementwise: true }], jobScheduleDescriptions: [{}, {}, {}] },
      `batch ${a.name} has 2 jobs and this batch 3`,
    );
    await refuse(
      "/api/v1/jobs",
      { dependsOn: [{ name: a.name, elementwise: true }] },
      "dependsOn[0].elementwise",
    );
    await refuse(
      "/api/v1/batches",
      { jobScheduleDescriptions: [{}, { dependsOn: [{ name: a.name }] }] },
      "jobScheduleDescriptions[1].dependsOn: a batch's jobs wait for what the batch waits for",
    );
    await refuse(
      "/api/v1/jobs",
      { dependsOn: [{ name: a.name, condition: "afterok" }] },
      "dependsOn[0].condition",
    );
    await refuse("/api/v1/jobs", { dependsOn: [] }, "dependsOn");
  });
});

describe("dependsOn and the reconciler", () => {
  it("when the event that ends the dependency is lost, the reconciler's passes release the dependent", async () => {
    const a = await createJob({ payload: '{"sleepSeconds": 0.3}' });
    droppedFinalEvents.add(a.name.slice(0, -9));
    const b = await createJob({ dependsOn: [{ name: a.name }] });
    await eventually(
      async () => (await stack.api<JobStatus>("GET", `/api/v1/jobs/${a.name}`)).body.status === "Running",
      10_000,
      "A to run",
    );
    await new Promise((resolve) => setTimeout(resolve, 800));
    // A's SUCCEEDED event never arrived: A still shows Running, B waits.
    expect((await stack.api<JobStatus>("GET", `/api/v1/jobs/${a.name}`)).body.status).toBe("Running");
    expect((await stack.api<JobStatus>("GET", `/api/v1/jobs/${b.name}`)).body.status).toBe("Waiting");
    // A pass repairs A from DescribeJobs once A has ended in Batch (later on a loaded machine); a pass
    // after that judges B on A's repaired state.
    await eventually(
      async () => {
        await reconcile(stack.deps, { ...DEFAULT_RECONCILE_OPTIONS, staleAfterMs: 0 });
        const dependent = await stack.api<JobStatus>("GET", `/api/v1/jobs/${b.name}`);
        return dependent.body.status !== "Waiting" || dependent.body.dependenciesMet != null;
      },
      30_000,
      "the reconciler to release B",
    );
    expect((await finalJob(stack, a.name)).status).toBe("Succeeded");
    const done = await finalJob(stack, b.name);
    expect(done.status).toBe("Succeeded");
    expect(done.dependenciesMet).not.toBeNull();
  });
});
