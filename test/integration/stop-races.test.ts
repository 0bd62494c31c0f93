import { ListJobsCommand } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { createBatch, eventually, finalJob, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  // One process slot: a blocker holds it, so every other job waits in the emulator's queue.
  stack = await startTestStack({ batch: { maxConcurrentJobs: 1 } });
});
afterAll(async () => {
  await stack?.stop();
});

const JOBS = 20;

async function create(body: unknown): Promise<JobStatus> {
  const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", body);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body;
}

/**
 * Runs `body` while a blocker job holds the one process slot, so that every other job waits in the
 * emulator's queue. The blocker sleeps far longer than a test takes (on a loaded machine, `npm test` with
 * other work alongside, a test took over a minute and a shorter blocker let queued jobs start) and is
 * stopped when the body ends, however it ends.
 */
async function withTheSlotHeld(body: () => Promise<void>) {
  const blocker = await create({ payload: JSON.stringify({ sleepSeconds: 1800 }) });
  try {
    await eventually(
      async () =>
        (await stack.api<JobStatus>("GET", `/api/v1/jobs/${blocker.name}`)).body.status === "Running",
    );
    await body();
  } finally {
    await stack.api("POST", `/api/v1/jobs/${blocker.name}/stop`);
  }
}

/**
 * Creates a batch of JOBS jobs and waits until each of them waits in the emulator's queue (RUNNABLE)
 * behind the blocker; returns the batch and its jobs' names.
 */
async function batchWaitingInQueue() {
  const batch = await createBatch(stack, {
    jobScheduleDescriptions: Array.from({ length: JOBS }, () => ({ payload: "{}" })),
  });
  const names = batch.jobStatuses.map((job) => job.name);
  await eventually(async () => {
    const jobs = await Promise.all(names.map((name) => stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`)));
    return jobs.every((job) => job.body.batchJobStatus === "RUNNABLE");
  });
  return { batch, names };
}

/** Names of the batch's AWS Batch jobs not ended yet (any status before SUCCEEDED or FAILED), in every queue. */
async function aliveInBatch(batchName: string) {
  const alive: string[] = [];
  for (const { queue } of stack.runtime.queues) {
    for (const jobStatus of ["SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"] as const) {
      const listed = await stack.clients.batch.send(new ListJobsCommand({ jobQueue: queue, jobStatus }));
      for (const job of listed.jobSummaryList ?? [])
        if (job.jobName?.startsWith(batchName)) alive.push(`${job.jobName} ${jobStatus}`);
    }
  }
  return alive;
}

/** No attempt of the job has a start at or after `since` (no process of it started after the stop). */
function startedAfter(job: JobStatus, since: number) {
  return job.podStatuses.filter((pod) => pod.startTime !== null && Date.parse(pod.startTime) >= since - 1000);
}

describe("a stop must stop", () => {
  it("a stop right after a priority change ends the job Stopped, 20 times out of 20, with no process started", async () => {
    await withTheSlotHeld(async () => {
      const { names } = await batchWaitingInQueue();
      const stoppedAt = Date.now();
      for (const name of names) {
        const raised = await stack.api("PATCH", `/api/v1/jobs/${name}`, { priority: 900 });
        expect(raised.status, JSON.stringify(raised.body)).toBe(200);
        const stopped = await stack.api("POST", `/api/v1/jobs/${name}/stop`);
        expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
      }
      const done = await Promise.all(names.map((name) => finalJob(stack, name, 60_000)));
      expect(done.map((job) => job.status)).toEqual(names.map(() => "Stopped"));
      for (const job of done) expect(startedAfter(job, stoppedAt)).toEqual([]);
    });
  }, 180_000);

  it("a stop right after a restart ends the job Stopped, 20 times out of 20, with no process of the new run", async () => {
    // The slot is held throughout: a new run that escaped its stop waits in Batch, where the check below
    // finds it (it would start as soon as the slot is free).
    await withTheSlotHeld(async () => {
      // Jobs to restart that cost no process: stopped while they wait behind the blocker. (A batch: the
      // retention rule keeps only the latest 10 ended single jobs.)
      const { batch, names } = await batchWaitingInQueue();
      for (const name of names) await stack.api("POST", `/api/v1/jobs/${name}/stop`);
      const ended = await Promise.all(names.map((name) => finalJob(stack, name, 60_000)));
      expect(ended.map((job) => job.status)).toEqual(names.map(() => "Stopped"));
      // Main-container processes by Batch job (the blocker's one so far): exact, where start times in whole
      // seconds cannot tell a process started just before the stop from one started just after.
      const processes = stack.batch.processCounts();
      // Twice: a job stopped right after its restart can be restarted (and stopped) again.
      for (const round of [1, 2]) {
        for (const name of names) {
          const restarted = await stack.api("POST", `/api/v1/jobs/${name}/restart`);
          expect(restarted.status, `round ${round}: ${JSON.stringify(restarted.body)}`).toBe(200);
          const stopped = await stack.api("POST", `/api/v1/jobs/${name}/stop`);
          expect(stopped.status, `round ${round}: ${JSON.stringify(stopped.body)}`).toBe(200);
        }
        const done = await Promise.all(names.map((name) => finalJob(stack, name, 60_000)));
        expect(done.map((job) => job.status)).toEqual(names.map(() => "Stopped"));
      }
      // Nothing of these jobs is left in AWS Batch to start once the slot is free.
      expect(await aliveInBatch(batch.name)).toEqual([]);
      const done = await Promise.all(
        names.map((name) => stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`)),
      );
      // No run reached an attempt, and no main-container process started but the blocker's.
      expect(done.map((job) => job.body.podStatuses)).toEqual(names.map(() => []));
      expect(stack.batch.processCounts()).toEqual(processes);
    });
  }, 180_000);

  it("deleting a batch ends its restarted runs in AWS Batch too, not only its array job", async () => {
    await withTheSlotHeld(async () => {
      const batch = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
        jobScheduleDescriptions: [{ payload: "{}" }, { payload: "{}" }],
      });
      expect(batch.status).toBe(200);
      const names = batch.body.jobStatuses.map((job) => job.name);
      // One array job of two children, waiting behind the blocker.
      await eventually(async () => (await aliveInBatch(batch.body.name)).length > 0, 30_000, "the array job");
      for (const name of names) await stack.api("POST", `/api/v1/jobs/${name}/stop`);
      await Promise.all(names.map((name) => finalJob(stack, name, 60_000)));
      // Restarted: each job is now a plain AWS Batch job of its own (run 2), waiting behind the blocker.
      const restarted = await stack.api("POST", `/api/v1/batches/${batch.body.name}/restart`, {});
      expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
      await eventually(
        async () => (await aliveInBatch(batch.body.name)).length === 2,
        30_000,
        "the two restarted runs in Batch",
      );
      const deleted = await stack.api("DELETE", `/api/v1/batches/${batch.body.name}`);
      expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
      await eventually(
        async () => (await aliveInBatch(batch.body.name)).length === 0,
        30_000,
        "no job of the deleted batch alive in Batch",
      );
    });
  }, 120_000);

  it("a stop of a large batch answers at once and every job then ends Stopped", async () => {
    await withTheSlotHeld(async () => {
      const size = 1_000;
      const created = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
        jobScheduleDescriptions: Array.from({ length: size }, () => ({})),
      });
      expect(created.status).toBe(200);
      const stopped = await stack.api("POST", `/api/v1/batches/${created.body.name}/stop`);
      expect(stopped.status, JSON.stringify(stopped.body)).toBe(200);
      const stopping = await stack.api<BatchStatus>("GET", `/api/v1/batches/${created.body.name}?limit=1`);
      expect(["Stopping", "Stopped"]).toContain(stopping.body.status);
      await eventually(async () => {
        const page = await stack.api<BatchStatus>("GET", `/api/v1/batches/${created.body.name}?limit=1`);
        return page.body.status === "Stopped" && page.body.jobCounts?.Stopped === size;
      }, 60_000);
    });
  });
});
