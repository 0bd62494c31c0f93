import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { eventually, FINAL, finalJob, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  // Restarts of more than 3 jobs take the background path (RESTART_SYNC_MAX in production).
  stack = await startTestStack({ reconcileEveryMs: 300, restartSyncMax: 3 });
});
afterAll(async () => {
  await stack?.stop();
});

async function create<T>(path: string, body: unknown): Promise<T> {
  const created = await stack.api<T>("POST", path, body);
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  return created.body;
}

async function finalBatch(name: string, timeoutMs = 60_000) {
  return eventually(
    async () => {
      const { body } = await stack.api<BatchStatus>("GET", `/api/v1/batches/${name}`);
      return FINAL.includes(body.status) ? body : undefined;
    },
    timeoutMs,
    `batch ${name} to end`,
  );
}

/** Every page of a listing, following X-Next-Token. */
async function allPages<T>(path: string): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let token: string | null = null;
  let pages = 0;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const url: string = token ? `${path}${separator}nextToken=${encodeURIComponent(token)}` : path;
    const page: { status: number; body: T[]; headers: Headers } = await stack.api<T[]>("GET", url);
    expect(page.status, JSON.stringify(page.body)).toBe(200);
    items.push(...page.body);
    token = page.headers.get("x-next-token");
    pages++;
  } while (token && pages < 100);
  return { items, pages };
}

describe("command, args and variables reach the process", () => {
  it("an environment variable and an argument from the request are seen by the job", async () => {
    const job = await create<JobStatus>("/api/v1/jobs", {
      payload: JSON.stringify({ printEnv: ["GREETING"] }),
      variables: { GREETING: "hello-from-request" },
      args: ["--mode", "fast"],
    });
    expect((await finalJob(stack, job.name)).status).toBe("Succeeded");
    const logs = await stack.api<string>("GET", `/api/v1/jobs/${job.name}/logs`);
    expect(logs.body).toContain("env GREETING=hello-from-request");
    expect(logs.body).toContain('args=["--mode","fast"]');
  });
});

describe("listing with filters and paging", () => {
  it("returns each matching job of a batch exactly once over the pages", async () => {
    const jobs = Array.from({ length: 25 }, (_, i) => ({
      jobId: `item-${i}`,
      payload: i % 5 === 0 ? '{"exitCode": 1}' : "{}",
    }));
    const batch = await create<BatchStatus>("/api/v1/batches", {
      batchId: "paging-run",
      jobScheduleDescriptions: jobs,
    });
    await finalBatch(batch.name);
    const all = await allPages<JobStatus>("/api/v1/jobs?batchId=paging-run&limit=7&order=asc");
    expect(all.pages).toBeGreaterThanOrEqual(4);
    expect(all.items).toHaveLength(25);
    expect(new Set(all.items.map((job) => job.name)).size).toBe(25);
    expect(all.items.every((job) => job.batchName === batch.name)).toBe(true);

    const failed = await allPages<JobStatus>(`/api/v1/jobs?batchName=${batch.name}&status=Failed&limit=2`);
    expect(failed.items.map((job) => job.jobId).sort()).toEqual(
      ["item-0", "item-5", "item-10", "item-15", "item-20"].sort(),
    );
    const one = await stack.api<JobStatus[]>("GET", `/api/v1/jobs?batchName=${batch.name}&jobId=item-7`);
    expect(one.body.map((job) => job.jobId)).toEqual(["item-7"]);
  });

  it("pages single jobs and batches by creation time, newest first unless asked", async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const names: string[] = [];
    for (let i = 0; i < 5; i++)
      names.push((await create<JobStatus>("/api/v1/jobs", { jobId: `listed-${i}` })).name);
    const desc = await allPages<JobStatus>(`/api/v1/jobs?createdAfter=${before}&limit=2`);
    const mine = desc.items.filter((job) => names.includes(job.name)).map((job) => job.name);
    expect(mine).toEqual([...names].reverse());
    expect(new Set(desc.items.map((job) => job.name)).size).toBe(desc.items.length);
    const asc = await allPages<JobStatus>(`/api/v1/jobs?createdAfter=${before}&order=asc&limit=3`);
    expect(asc.items.filter((job) => names.includes(job.name)).map((job) => job.name)).toEqual(names);
    const byLabel = await stack.api<JobStatus[]>("GET", "/api/v1/jobs?jobId=listed-3");
    expect(byLabel.body.map((job) => job.name)).toEqual([names[3]]);
    const none = await stack.api<JobStatus[]>("GET", `/api/v1/jobs?createdBefore=${before}&jobId=listed-3`);
    expect(none.body).toEqual([]);

    const batches = await allPages<BatchStatus>("/api/v1/batches?batchId=paging-run&limit=1");
    expect(batches.items).toHaveLength(1);
    expect(batches.items[0]!.jobStatuses).toEqual([]);
  });

  it("refuses unknown filters and bad values with 422", async () => {
    for (const query of [
      "status=Sleeping",
      "limit=0",
      "createdAfter=yesterday",
      "colour=red",
      "nextToken=%25%25",
    ]) {
      const answer = await stack.api<{ code: number; message: string }>("GET", `/api/v1/jobs?${query}`);
      expect(answer.status, query).toBe(422);
      expect(answer.body.code).toBe(422);
    }
  });
});

describe("reuse (find_or_create)", () => {
  it("returns the earlier Succeeded job for the same spec and payload without running it again", async () => {
    const body = { payload: '{"reuse": "me"}', resources: { limits: { cpu: "1" } } };
    const first = await create<JobStatus>("/api/v1/jobs?reuse=true", body);
    expect((await finalJob(stack, first.name)).status).toBe("Succeeded");
    const processes = stack.batch.stats().processesStarted ?? 0;
    const again = await create<JobStatus>("/api/v1/jobs?reuse=true", {
      ...body,
      jobId: "a label does not matter",
    });
    expect(again.name).toBe(first.name);
    expect(again.status).toBe("Succeeded");
    const other = await create<JobStatus>("/api/v1/jobs?reuse=true", {
      ...body,
      payload: '{"reuse": "other"}',
    });
    expect(other.name).not.toBe(first.name);
    const fresh = await create<JobStatus>("/api/v1/jobs", body);
    expect(fresh.name).not.toBe(first.name);
    await finalJob(stack, other.name);
    await finalJob(stack, fresh.name);
    expect(stack.batch.stats().processesStarted).toBe(processes + 2);
  });
});

describe("restart", () => {
  it("reruns only the failed jobs of a batch, keeps their history, and the batch ends Succeeded", async () => {
    const markers = mkdtempSync(join(tmpdir(), "restart-"));
    const batch = await create<BatchStatus>("/api/v1/batches", {
      jobScheduleDescriptions: [
        { jobId: "ok-1", payload: "{}" },
        { jobId: "flaky-1", payload: JSON.stringify({ failOnce: join(markers, "a") }) },
        { jobId: "ok-2", payload: "{}" },
        { jobId: "flaky-2", payload: JSON.stringify({ failOnce: join(markers, "b") }) },
      ],
    });
    const ended = await finalBatch(batch.name);
    expect(ended.status).toBe("Failed");
    const restarted = await stack.api<BatchStatus>("POST", `/api/v1/batches/${batch.name}/restart`);
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    const done = await finalBatch(batch.name);
    expect(done.status).toBe("Succeeded");
    const byId = Object.fromEntries(done.jobStatuses.map((job) => [job.jobId, job]));
    expect(byId["ok-1"]!.podStatuses).toHaveLength(1);
    expect(byId["ok-2"]!.podStatuses).toHaveLength(1);
    for (const flaky of ["flaky-1", "flaky-2"]) {
      expect(byId[flaky]!.podStatuses.map((pod: { exitCode?: number }) => pod.exitCode)).toEqual([1, 0]);
      expect(byId[flaky]!.restart).toBeTruthy();
    }
    const again = await stack.api<{ code: number; message: string }>(
      "POST",
      `/api/v1/batches/${batch.name}/restart`,
    );
    expect(again.status).toBe(400);
    expect(again.body.message).toContain("no failed");
  });

  it("a restart larger than the request submits is submitted in the background, each job once", async () => {
    const markers = mkdtempSync(join(tmpdir(), "restart-big-"));
    const size = 8; // > restartSyncMax
    const batch = await create<BatchStatus>("/api/v1/batches", {
      jobScheduleDescriptions: Array.from({ length: size }, (_, i) => ({
        payload: JSON.stringify({ failOnce: join(markers, `m${i}`) }),
      })),
    });
    // Polled lightly (one job per answer, every half second).
    const statusOf = async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      return (await stack.api<BatchStatus>("GET", `/api/v1/batches/${batch.name}?limit=1`)).body;
    };
    await eventually(async () => (await statusOf()).status === "Failed", 60_000, "the batch to fail");
    const restarted = await stack.api<BatchStatus>("POST", `/api/v1/batches/${batch.name}/restart`);
    expect(restarted.status, JSON.stringify(restarted.body)).toBe(200);
    const done = await eventually(
      async () => {
        const body = await statusOf();
        return body.status === "Succeeded" ? body : undefined;
      },
      60_000,
      "the restarted batch to succeed",
    );
    expect(done.jobCounts).toEqual({ Succeeded: size });
    const all = await stack.api<BatchStatus>("GET", `/api/v1/batches/${batch.name}`);
    expect(all.body.jobStatuses.every((job) => job.podStatuses.length === 2)).toBe(true);
  }, 150_000);

  it("restarts a single job as a new run of the same name; a running job cannot be restarted", async () => {
    const job = await create<JobStatus>("/api/v1/jobs", { payload: '{"exitCode": 3}' });
    expect((await finalJob(stack, job.name)).status).toBe("Failed");
    const restarted = await stack.api<JobStatus>("POST", `/api/v1/jobs/${job.name}/restart`);
    expect(restarted.status).toBe(200);
    expect(restarted.body.name).toBe(job.name);
    const done = await eventually(async () => {
      const current = await finalJob(stack, job.name);
      return current.podStatuses.length === 2 ? current : undefined;
    });
    expect(done.status).toBe("Failed");
    expect(done.failed).toBe(2);
    const running = await create<JobStatus>("/api/v1/jobs", { payload: '{"sleepSeconds": 5}' });
    const refused = await stack.api<{ message: string }>("POST", `/api/v1/jobs/${running.name}/restart`);
    expect(refused.status).toBe(400);
    expect(refused.body.message).toContain("has not ended");
    await stack.api("POST", `/api/v1/jobs/${running.name}/stop`);
  });
});

describe("ttlAfterFinish", () => {
  it("deletes a finished job after its own ttlAfterFinish", async () => {
    const job = await create<JobStatus>("/api/v1/jobs", { payload: "{}", ttlAfterFinish: 1 });
    expect((await finalJob(stack, job.name)).status).toBe("Succeeded");
    await eventually(
      async () => (await stack.api("GET", `/api/v1/jobs/${job.name}`)).status === 404,
      20_000,
      "the job to be deleted",
    );
  });
});
