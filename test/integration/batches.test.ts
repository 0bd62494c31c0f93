import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BatchClient, DescribeJobDefinitionsCommand } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus } from "#lib/api/schemas.js";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import { createBatch, eventually, finalBatch, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
describe("batches as AWS Batch array jobs", () => {
  it("groups equal specs into array jobs, a group of one into a plain job, and runs each job with its own payload", async () => {
    const submitsBefore = stack.batch.stats().SubmitJob ?? 0;
    const jobs = [
      { jobId: "a1", payload: "alpha-1" },
      { jobId: "b1", payload: "beta-1", imageTagName: "2.0.0" },
      { jobId: "a2", payload: "alpha-2" },
      { jobId: "c1", payload: "gamma-1", timeLimitSeconds: 300 },
      { jobId: "b2", payload: "beta-2", imageTagName: "2.0.0" },
      { jobId: "a3", payload: "alpha-3" },
    ];
    const created = await createBatch(stack, { batchId: "mixed", jobScheduleDescriptions: jobs });
    expect(created).toMatchObject({ status: "Waiting", batchType: "batch", batchId: "mixed", totalJobs: 6 });
    const groups = await stack.deps.store.listGroups(created.name);
    expect(groups.map((group) => group.size).sort()).toEqual([1, 2, 3]);
    expect((stack.batch.stats().SubmitJob ?? 0) - submitsBefore).toBe(3);

    const done = await finalBatch(stack, created.name);
    expect(done.status).toBe("Succeeded");
    expect(done.jobStatuses).toHaveLength(6);
    for (const job of done.jobStatuses) {
      const sent = jobs.find((candidate) => candidate.jobId === job.jobId)!;
      expect(job).toMatchObject({
        status: "Succeeded",
        exitCode: 0,
        batchName: created.name,
        batchId: "mixed",
      });
      const logs = await stack.api<string>("GET", `/api/v1/jobs/${job.name}/logs`);
      expect(logs.body).toContain(`sha256=${sha256(sent.payload)}`);
    }

    // The second image tag got its own job definition revision, registered once.
    const definitions = await new BatchClient({}).send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: "sample-compute", status: "ACTIVE" }),
    );
    const images = definitions.jobDefinitions!.map(
      (definition) =>
        definition.ecsProperties!.taskProperties![0]!.containers!.find((c) => c.name === "main")!.image,
    );
    expect(images.filter((image) => image!.endsWith(":2.0.0"))).toHaveLength(1);
  });

  it("one failing job makes the batch Failed while the others succeed, with exact counts", async () => {
    const created = await createBatch(stack, {
      jobScheduleDescriptions: [
        { payload: "{}" },
        { payload: '{"exitCode": 7}' },
        { payload: "{}" },
        { payload: "{}" },
      ],
    });
    const done = await finalBatch(stack, created.name);
    expect(done.status).toBe("Failed");
    expect(done.jobCounts).toEqual({ Succeeded: 3, Failed: 1 });
    const failed = done.jobStatuses.filter((job) => job.status === "Failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]?.exitCode).toBe(7);
  });

  it("stopping one job of a batch stops only that array child; the rest run to completion", async () => {
    const created = await createBatch(stack, {
      jobScheduleDescriptions: [
        { jobId: "slow", payload: '{"sleepSeconds": 30}' },
        { jobId: "quick-1", payload: '{"sleepSeconds": 1}' },
        { jobId: "quick-2", payload: '{"sleepSeconds": 1}' },
      ],
    });
    const slow = created.jobStatuses.find((job) => job.jobId === "slow")!;
    await eventually(
      async () =>
        (await stack.api<{ status: string }>("GET", `/api/v1/jobs/${slow.name}`)).body.status === "Running",
    );
    const stop = await stack.api("POST", `/api/v1/batches/${created.name}/jobs/${slow.name.slice(-8)}/stop`);
    expect(stop.body).toMatchObject({ status: "Success", code: 200 });
    const done = await finalBatch(stack, created.name);
    expect(Object.fromEntries(done.jobStatuses.map((job) => [job.jobId, job.status]))).toEqual({
      slow: "Stopped",
      "quick-1": "Succeeded",
      "quick-2": "Succeeded",
    });
  });

  it("duplicated and reordered child events leave exact counts", async () => {
    const created = await createBatch(stack, {
      jobScheduleDescriptions: [{}, { payload: '{"exitCode": 1}' }, {}],
    });
    const done = await finalBatch(stack, created.name);
    const events = readFileSync(join(stack.dataDir, "batch", "events.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((event) => event.detail.parameters?.schedBatch === created.name);
    const handler = createBatchEventsHandler(stack.deps);
    await Promise.all([...events].reverse().map((event) => handler(event)));
    await Promise.all(events.map((event) => handler(event)));
    const after = await stack.api<BatchStatus>("GET", `/api/v1/batches/${created.name}`);
    expect(after.body.jobCounts).toEqual({ Succeeded: 2, Failed: 1 });
    expect(after.body).toEqual(done);
  });

  it("pages the jobs of a batch with limit and nextToken, each job exactly once", async () => {
    const created = await createBatch(stack, {
      jobScheduleDescriptions: Array.from({ length: 250 }, (_, i) => ({ jobId: `j${i}` })),
    });
    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const query = `?limit=60${nextToken ? `&nextToken=${nextToken}` : ""}`;
      const page = await stack.api<BatchStatus>("GET", `/api/v1/batches/${created.name}${query}`);
      expect(page.status).toBe(200);
      seen.push(...page.body.jobStatuses.map((job) => job.jobId!));
      nextToken = page.body.nextToken;
    } while (nextToken);
    expect(seen.sort()).toEqual(Array.from({ length: 250 }, (_, i) => `j${i}`).sort());
    await stack.api("POST", `/api/v1/batches/${created.name}/stop`);
    const stopped = await finalBatch(stack, created.name);
    expect(stopped.status).toBe("Stopped");
  });

  it("lists batches and deletes one with its jobs", async () => {
    const created = await createBatch(stack, { jobScheduleDescriptions: [{}, {}] });
    const list = await stack.api<BatchStatus[]>("GET", "/api/v1/batches");
    expect(list.body.map((batch) => batch.name)).toContain(created.name);
    await finalBatch(stack, created.name);
    const deleted = await stack.api("DELETE", `/api/v1/batches/${created.name}`);
    expect(deleted.body).toMatchObject({ status: "Success" });
    expect((await stack.api("GET", `/api/v1/batches/${created.name}`)).status).toBe(404);
    expect((await stack.api("GET", `/api/v1/jobs/${created.jobStatuses[0]!.name}`)).status).toBe(404);
  });
});
