import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BatchClient,
  CancelJobCommand,
  CreateJobQueueCommand,
  DeregisterJobDefinitionCommand,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  type JobDetail,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
  TerminateJobCommand,
} from "@aws-sdk/client-batch";
import {
  type BatchEmulatorOptions,
  type BatchStateChangeEvent,
  logFileForStream,
} from "@local/batch-emulator";
import { EventDelivery, Stats } from "@local/batch-emulator/internals";
import { describe, expect, it } from "vitest";
import { node, QUEUE, REGION, register, startEmulator, tempDir, waitFor } from "./support.js";

const ACCOUNT = "000000000000";
const QUEUE_ARN = `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${QUEUE}`;

/** An emulator that keeps the events it delivers, in order. */
async function start(options: Partial<BatchEmulatorOptions> = {}) {
  const events: BatchStateChangeEvent[] = [];
  const started = await startEmulator({
    onEvent: async (event) => {
      events.push(event);
    },
    ...options,
  });
  return { ...started, events };
}

const describeJob = async (client: BatchClient, jobId: string) =>
  (await client.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];

const waitForStatus = (client: BatchClient, jobId: string, statuses: string[], timeoutMs?: number) =>
  waitFor(
    async () => {
      const job = await describeJob(client, jobId);
      return job && statuses.includes(job.status ?? "") ? job : undefined;
    },
    `${jobId} to reach ${statuses.join("|")}`,
    { timeoutMs },
  );

const statusesOf = (events: BatchStateChangeEvent[], jobId: string) =>
  events.filter((event) => event.detail.jobId === jobId).map((event) => event.detail.status);

/** Waits until the job's terminal event has been delivered (events trail DescribeJobs a little). */
const waitForFinalEvent = (events: BatchStateChangeEvent[], jobId: string) =>
  waitFor(
    () =>
      events.some(
        (e) => e.detail.jobId === jobId && (e.detail.status === "SUCCEEDED" || e.detail.status === "FAILED"),
      ),
    `final event of ${jobId}`,
  );

const submit = (client: BatchClient, input: Partial<SubmitJobCommandInput> & { jobDefinition: string }) =>
  client.send(new SubmitJobCommand({ jobName: "job", jobQueue: QUEUE, ...input }));

const logOf = (dataDir: string, stream: string | undefined) => {
  const file = logFileForStream(dataDir, stream ?? "");
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
};

describe("local AWS Batch emulator", () => {
  it("registers job definitions in revisions and describes them by name, name:rev and ARN", async () => {
    const { client } = await start();
    const first = await register(client, "defs", node("0"));
    const second = await register(client, "defs", node("1"));
    expect(first).toMatchObject({
      jobDefinitionName: "defs",
      revision: 1,
      jobDefinitionArn: `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/defs:1`,
    });
    expect(second.revision).toBe(2);
    const byName = await client.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "defs" }));
    expect(byName.jobDefinitions?.map((d) => d.revision)).toEqual([1, 2]);
    expect(byName.jobDefinitions?.[1]).toMatchObject({
      status: "ACTIVE",
      type: "container",
      containerProperties: { command: node("1") },
    });
    const byRef = await client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitions: ["defs:1", second.jobDefinitionArn!] }),
    );
    expect(byRef.jobDefinitions?.map((d) => d.revision)).toEqual([1, 2]);
    await client.send(new DeregisterJobDefinitionCommand({ jobDefinition: "defs:2" }));
    const active = await client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: "defs", status: "ACTIVE" }),
    );
    expect(active.jobDefinitions?.map((d) => d.revision)).toEqual([1]);
  });

  it("refuses aws: tag keys from callers, and describes a deployed definition with CloudFormation's tags", async () => {
    const { client, emulator } = await start();
    const definition = {
      jobDefinitionName: "tagged",
      type: "container" as const,
      containerProperties: { image: "local", command: node("0") },
    };
    for (const key of ["aws:cloudformation:stack-name", "AWS:owner"]) {
      await expect(
        client.send(new RegisterJobDefinitionCommand({ ...definition, tags: { [key]: "x", team: "ml" } })),
      ).rejects.toMatchObject({
        name: "ClientException",
        message: expect.stringMatching(/tag key .* is invalid; keys starting with "aws:" are reserved/),
      });
    }
    await expect(
      client.send(
        new SubmitJobCommand({
          jobName: "j",
          jobQueue: QUEUE,
          jobDefinition: "tagged",
          tags: { "aws:x": "y" },
        }),
      ),
    ).rejects.toMatchObject({ name: "ClientException" });
    emulator.provisionJobDefinition(
      { ...definition, tags: { team: "ml" } },
      { "aws:cloudformation:stack-name": "sample-job-scheduler", "aws:cloudformation:logical-id": "Def" },
    );
    const [described] = (
      await client.send(new DescribeJobDefinitionsCommand({ jobDefinitionName: "tagged" }))
    ).jobDefinitions!;
    expect(described!.tags).toEqual({
      team: "ml",
      "aws:cloudformation:stack-name": "sample-job-scheduler",
      "aws:cloudformation:logical-id": "Def",
    });
    // Copying them into a new revision, as code that reuses a deployed definition might, is refused.
    await expect(
      client.send(new RegisterJobDefinitionCommand({ ...definition, tags: described!.tags })),
    ).rejects.toMatchObject({ name: "ClientException" });
  });

  it("runs a job as a local process with AWS's variables and its volume, with the events AWS sends", async () => {
    const { client, events, dataDir, emulator } = await start({
      env: { FROM_OPTIONS: "options", FROM_DEFINITION: "options-lose" },
    });
    const program = `
      const fs = require("fs");
      const dir = process.env.BATCH_LOCAL_ROOT + "/work/data";
      const pick = (...names) => Object.fromEntries(names.map((n) => [n, process.env[n]]));
      fs.writeFileSync(dir + "/facts.json", JSON.stringify({
        env: pick("AWS_BATCH_JOB_ID", "AWS_BATCH_JOB_ATTEMPT", "AWS_BATCH_JQ_NAME", "AWS_BATCH_CE_NAME",
          "AWS_BATCH_JOB_ARRAY_INDEX", "FROM_OPTIONS", "FROM_DEFINITION", "OVERRIDDEN"),
        argv: process.argv.slice(1), cwd: process.cwd(), isDir: fs.statSync(dir).isDirectory() }));
      console.log("hello from the job");
      console.error("and from stderr");`;
    await register(client, "single", node(program), {
      containerProperties: {
        image: "ignored",
        command: [...node(program), "Ref::greeting"],
        environment: [
          { name: "FROM_DEFINITION", value: "definition" },
          { name: "OVERRIDDEN", value: "definition" },
        ],
        volumes: [{ name: "data" }],
        mountPoints: [{ sourceVolume: "data", containerPath: "/work/data" }],
      },
      parameters: { greeting: "default" },
    });
    const { jobId, jobArn } = await submit(client, {
      jobName: "single-job",
      jobDefinition: "single",
      parameters: { greeting: "hi" },
      tags: { team: "t1" },
      containerOverrides: { environment: [{ name: "OVERRIDDEN", value: "override" }] },
    });
    const job = await waitForStatus(client, jobId!, ["SUCCEEDED", "FAILED"]);
    expect(job.status).toBe("SUCCEEDED");
    expect(job.statusReason).toBe("Essential container in task exited");
    const facts = JSON.parse(
      readFileSync(join(dataDir, "tasks", jobId!, "1", "volumes", "data", "facts.json"), "utf8"),
    );
    expect(facts).toEqual({
      env: {
        AWS_BATCH_JOB_ID: jobId,
        AWS_BATCH_JOB_ATTEMPT: "1",
        AWS_BATCH_JQ_NAME: QUEUE,
        AWS_BATCH_CE_NAME: "local",
        FROM_OPTIONS: "options",
        FROM_DEFINITION: "definition",
        OVERRIDDEN: "override",
      },
      argv: ["hi"],
      cwd: process.cwd(),
      isDir: true,
    });
    const attempt = job.attempts?.[0];
    expect(job.attempts).toHaveLength(1);
    expect(attempt?.container).toMatchObject({ exitCode: 0, taskArn: expect.stringContaining(":task/") });
    expect(attempt?.container?.logStreamName).toMatch(/^single\/default\/[0-9a-f]{32}$/);
    expect(job.container?.logStreamName).toBe(attempt?.container?.logStreamName);
    expect(logOf(dataDir, attempt?.container?.logStreamName)).toContain("hello from the job\n");
    expect(logOf(dataDir, attempt?.container?.logStreamName)).toContain("and from stderr\n");

    await waitForFinalEvent(events, jobId!);
    expect(statusesOf(events, jobId!)).toEqual(["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]);
    const last = events.at(-1)!;
    expect(last).toMatchObject({
      version: "0",
      "detail-type": "Batch Job State Change",
      source: "aws.batch",
      account: ACCOUNT,
      region: REGION,
      resources: [jobArn],
      detail: {
        jobArn,
        jobId,
        jobName: "single-job",
        jobQueue: QUEUE_ARN,
        status: "SUCCEEDED",
        jobDefinition: `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/single:1`,
        parameters: { greeting: "hi" },
        tags: { team: "t1", resourceArn: jobArn },
        attempts: [{ container: { exitCode: 0 } }],
      },
    });
    expect(typeof last.detail.createdAt).toBe("number");
    expect(last.detail.startedAt).toBeLessThanOrEqual(last.detail.stoppedAt!);
    expect(new Date(last.time).toISOString()).toBe(last.time);
    await waitFor(() => emulator.stats().eventsDelivered === 5, "5 deliveries");
    expect(emulator.stats()).toMatchObject({ RegisterJobDefinition: 1, SubmitJob: 1, eventsDelivered: 5 });
  });

  it("fails on a non-zero exit, retries up to attempts, and stops retrying on an EXIT rule", async () => {
    const { client, events, dataDir } = await start();
    await register(
      client,
      "exits",
      node(
        `console.log("attempt " + process.env.AWS_BATCH_JOB_ATTEMPT); process.exit(Number(process.argv[1]))`,
      ),
    );
    const run = (code: number, retryStrategy?: SubmitJobCommandInput["retryStrategy"]) =>
      submit(client, {
        jobDefinition: "exits",
        retryStrategy,
        containerOverrides: {
          command: node(
            `console.log("attempt " + process.env.AWS_BATCH_JOB_ATTEMPT); process.exit(Number(process.argv[1]))`,
          ).concat(String(code)),
        },
      });
    const once = await run(3);
    const thrice = await run(2, { attempts: 3 });
    const exit = await run(3, { attempts: 3, evaluateOnExit: [{ onExitCode: "3", action: "EXIT" }] });
    const noMatch = await run(3, { attempts: 2, evaluateOnExit: [{ onExitCode: "4*", action: "EXIT" }] });
    const missing = await submit(client, {
      jobDefinition: "exits",
      containerOverrides: { command: ["no-such-command-on-this-machine"] },
    });
    const [a, b, c, d, e] = await Promise.all(
      [once, thrice, exit, noMatch, missing].map((job) =>
        waitForStatus(client, job.jobId!, ["SUCCEEDED", "FAILED"]),
      ),
    );
    expect(e).toMatchObject({ status: "FAILED", statusReason: "Task failed to start" });
    expect(e?.attempts?.[0]?.container?.reason).toMatch(/^CannotStartContainerError: .*ENOENT/);
    expect(a).toMatchObject({ status: "FAILED", statusReason: "Essential container in task exited" });
    expect(a?.attempts?.map((x) => x.container?.exitCode)).toEqual([3]);
    expect(b?.attempts?.map((x) => x.container?.exitCode)).toEqual([2, 2, 2]);
    expect(b?.attempts?.map((x) => logOf(dataDir, x.container?.logStreamName))).toEqual([
      "attempt 1\n",
      "attempt 2\n",
      "attempt 3\n",
    ]);
    expect(c?.attempts).toHaveLength(1);
    expect(d?.attempts).toHaveLength(2);
    await waitForFinalEvent(events, thrice.jobId!);
    expect(statusesOf(events, thrice.jobId!)).toEqual([
      "PENDING",
      ...["RUNNABLE", "STARTING", "RUNNING"],
      ...["RUNNABLE", "STARTING", "RUNNING"],
      ...["RUNNABLE", "STARTING", "RUNNING"],
      "FAILED",
    ]);
  });

  it("times an attempt out (SIGTERM, then SIGKILL) and does not retry it", async () => {
    // 60 s scaled to 3 s: long enough for node to start and install its SIGTERM handler on a loaded machine.
    const { client, dataDir } = await start({ clock: { timeoutScale: 0.05 }, killGraceMs: 200 });
    await register(
      client,
      "sleeper",
      node(`process.on("SIGTERM", () => console.log("got SIGTERM")); setInterval(() => {}, 1000);`),
    );
    const { jobId } = await submit(client, {
      jobDefinition: "sleeper",
      timeout: { attemptDurationSeconds: 60 },
      retryStrategy: { attempts: 2 },
    });
    const job = await waitForStatus(client, jobId!, ["SUCCEEDED", "FAILED"]);
    expect(job.statusReason).toBe("Job attempt duration exceeded timeout");
    expect(job.attempts).toHaveLength(1);
    expect(job.attempts?.[0]?.container?.exitCode).toBeUndefined();
    expect(job.attempts?.[0]?.statusReason).toBe("Job attempt duration exceeded timeout");
    expect(logOf(dataDir, job.attempts?.[0]?.container?.logStreamName)).toContain("got SIGTERM");
  });

  it("terminates a running job, cancels a RUNNABLE one, and leaves a RUNNING one alone on CancelJob", async () => {
    const { client, events } = await start({ maxConcurrentJobs: 1 });
    await register(client, "forever", node("setInterval(() => {}, 1000)"));
    const running = await submit(client, { jobDefinition: "forever", retryStrategy: { attempts: 3 } });
    await waitForStatus(client, running.jobId!, ["RUNNING"]);
    const waiting = await submit(client, { jobDefinition: "forever" });
    await waitForStatus(client, waiting.jobId!, ["RUNNABLE"]);
    await client.send(new CancelJobCommand({ jobId: waiting.jobId!, reason: "no longer needed" }));
    await client.send(new CancelJobCommand({ jobId: running.jobId!, reason: "ignored" }));
    const cancelled = await waitForStatus(client, waiting.jobId!, ["FAILED"]);
    expect(cancelled).toMatchObject({ statusReason: "no longer needed", isCancelled: true, attempts: [] });
    expect((await describeJob(client, running.jobId!))?.status).toBe("RUNNING");
    await client.send(new TerminateJobCommand({ jobId: running.jobId!, reason: "stopped by user" }));
    const terminated = await waitForStatus(client, running.jobId!, ["FAILED"]);
    expect(terminated).toMatchObject({ statusReason: "stopped by user", isTerminated: true });
    expect(terminated.attempts).toHaveLength(1);
    expect(terminated.attempts?.[0]?.container?.exitCode).toBe(143);
    await waitForFinalEvent(events, waiting.jobId!);
    expect(statusesOf(events, waiting.jobId!)).toEqual(["PENDING", "RUNNABLE", "FAILED"]);
  });

  it("runs an array job: children see their index, the parent summarises and succeeds", async () => {
    const { client, events, dataDir } = await start();
    await register(client, "arr", node(`console.log("index=" + process.env.AWS_BATCH_JOB_ARRAY_INDEX)`));
    const { jobId, jobArn } = await submit(client, {
      jobName: "array-job",
      jobDefinition: "arr",
      arrayProperties: { size: 3 },
      tags: { team: "t1" },
    });
    const parent = await waitForStatus(client, jobId!, ["SUCCEEDED", "FAILED"]);
    expect(parent.status).toBe("SUCCEEDED");
    expect(parent.arrayProperties).toMatchObject({ size: 3, statusSummary: { SUCCEEDED: 3, FAILED: 0 } });
    await waitForFinalEvent(events, jobId!);
    for (const index of [0, 1, 2]) {
      const childId = `${jobId}:${index}`;
      await waitForFinalEvent(events, childId);
      expect(statusesOf(events, childId)).toEqual(["RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"]);
      const event = events.find((e) => e.detail.jobId === childId)!;
      expect(event.resources).toEqual([`${jobArn}:${index}`]);
      expect(event.detail).toMatchObject({
        jobName: "array-job",
        jobArn: `${jobArn}:${index}`,
        arrayProperties: { index, statusSummary: {} },
        tags: { team: "t1", resourceArn: jobArn },
      });
      const child = await describeJob(client, childId);
      expect(logOf(dataDir, child?.attempts?.[0]?.container?.logStreamName)).toBe(`index=${index}\n`);
    }
    expect(statusesOf(events, jobId!)).toEqual(["PENDING", "SUCCEEDED"]);
    const parentEvent = events.find((e) => e.detail.jobId === jobId && e.detail.status === "PENDING")!;
    expect(parentEvent.detail.arrayProperties).toMatchObject({ size: 3, statusSummary: { PENDING: 3 } });
    expect(parentEvent.detail.arrayProperties?.index).toBeUndefined();
    const both = await client.send(
      new DescribeJobsCommand({ jobs: [jobId!, `${jobId}:2`, `${jobId}:3`, "nope"] }),
    );
    expect(both.jobs?.map((job) => job.jobId)).toEqual([jobId, `${jobId}:2`]);
    const children = await client.send(new ListJobsCommand({ arrayJobId: jobId, jobStatus: "SUCCEEDED" }));
    expect(children.jobSummaryList?.map((job) => job.arrayProperties?.index)).toEqual([0, 1, 2]);
  });

  it("terminating one child fails only that child; the parent fails when all ended", async () => {
    const { client } = await start();
    await register(
      client,
      "arr2",
      node(`setTimeout(() => {}, process.env.AWS_BATCH_JOB_ARRAY_INDEX === "1" ? 60000 : 400)`),
    );
    const { jobId } = await submit(client, { jobDefinition: "arr2", arrayProperties: { size: 3 } });
    await waitForStatus(client, `${jobId}:1`, ["RUNNING"]);
    await client.send(new TerminateJobCommand({ jobId: `${jobId}:1`, reason: "child stopped" }));
    const parent = await waitForStatus(client, jobId!, ["SUCCEEDED", "FAILED"]);
    expect(parent).toMatchObject({ status: "FAILED", statusReason: "Array Child Job failed" });
    const { jobs } = await client.send(
      new DescribeJobsCommand({ jobs: [0, 1, 2].map((i) => `${jobId}:${i}`) }),
    );
    expect(jobs?.map((job) => [job.status, job.statusReason])).toEqual([
      ["SUCCEEDED", "Essential container in task exited"],
      ["FAILED", "child stopped"],
      ["SUCCEEDED", "Essential container in task exited"],
    ]);
  });

  it("cancels and terminates an array parent: every child, then the parent fails", async () => {
    const { client, events } = await start({ maxConcurrentJobs: 1 });
    await register(client, "arr3", node("setInterval(() => {}, 1000)"));
    const { jobId } = await submit(client, { jobDefinition: "arr3", arrayProperties: { size: 3 } });
    await waitForStatus(client, `${jobId}:0`, ["RUNNING"]);
    await waitForStatus(client, `${jobId}:2`, ["RUNNABLE"]);
    await client.send(new CancelJobCommand({ jobId: jobId!, reason: "batch cancelled" }));
    await waitForStatus(client, `${jobId}:2`, ["FAILED"]);
    expect((await describeJob(client, `${jobId}:0`))?.status).toBe("RUNNING"); // CancelJob leaves it running
    expect((await describeJob(client, jobId!))?.status).toBe("PENDING");
    await client.send(new TerminateJobCommand({ jobId: jobId!, reason: "batch stopped" }));
    const parent = await waitForStatus(client, jobId!, ["FAILED"]);
    expect(parent.statusReason).toBe("batch cancelled");
    expect(parent.arrayProperties?.statusSummary).toMatchObject({ FAILED: 3, SUCCEEDED: 0 });
    const { jobs } = await client.send(
      new DescribeJobsCommand({ jobs: [0, 1, 2].map((i) => `${jobId}:${i}`) }),
    );
    expect(jobs?.map((job) => job.statusReason)).toEqual([
      "batch stopped",
      "batch cancelled",
      "batch cancelled",
    ]);
    expect(jobs?.[0]?.attempts).toHaveLength(1);
    await waitForFinalEvent(events, jobId!);
    expect(statusesOf(events, `${jobId}:1`)).toEqual(["RUNNABLE", "FAILED"]);
  });

  it("refuses what AWS refuses with a ClientException and a useful message", async () => {
    const { client, emulator } = await start();
    await register(client, "valid", node("0"));
    await register(client, "valid", node("0"));
    await client.send(new DeregisterJobDefinitionCommand({ jobDefinition: "valid:2" }));
    const base = { jobName: "ok", jobQueue: QUEUE, jobDefinition: "valid" };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ arrayProperties: { size: 1 } }, /arrayProperties.size must be between 2 and 10000/],
      [{ arrayProperties: { size: 10_001 } }, /between 2 and 10000/],
      [{ retryStrategy: { attempts: 0 } }, /attempts must be between 1 and 10/],
      [{ retryStrategy: { attempts: 11 } }, /attempts must be between 1 and 10/],
      [
        {
          retryStrategy: { attempts: 2, evaluateOnExit: Array(6).fill({ onExitCode: "1", action: "EXIT" }) },
        },
        /at most 5 entries/,
      ],
      [{ timeout: { attemptDurationSeconds: 59 } }, /at least 60 seconds/],
      [{ jobName: "-starts-with-dash" }, /jobName .* is invalid/],
      [{ jobName: "has space" }, /jobName .* is invalid/],
      [{ jobName: "x".repeat(129) }, /jobName .* is invalid/],
      [{ parameters: { big: "x".repeat(31_000) } }, /maximum is 30 KiB/],
      [{ jobQueue: "missing-queue" }, /Job queue missing-queue does not exist/],
      [{ jobDefinition: "missing" }, /Job definition missing does not exist/],
      [{ jobDefinition: "valid:9" }, /Job definition valid:9 does not exist/],
      [{ jobDefinition: "valid:2" }, /not ACTIVE/],
      [
        { jobDefinition: `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/other:1` },
        /job-definition\/other:1 does not exist/,
      ],
      [
        { containerOverrides: { environment: [{ name: "AWS_BATCH_JOB_ID", value: "x" }] } },
        /AWS_BATCH_JOB_ID .*reserved/,
      ],
      [{ jobName: undefined }, /jobName is required/],
      [{ jobQueue: undefined }, /jobQueue is required/],
      [{ jobDefinition: undefined }, /jobDefinition is required/],
    ];
    for (const [change, message] of cases) {
      const error = await client.send(new SubmitJobCommand({ ...base, ...change } as never)).then(
        () => undefined,
        (e: Error & { $metadata?: { httpStatusCode?: number } }) => e,
      );
      expect(error?.name, JSON.stringify(change).slice(0, 80)).toBe("ClientException");
      expect(error?.message).toMatch(message);
      expect(error?.$metadata?.httpStatusCode).toBe(400);
    }
    await expect(client.send(new ListJobsCommand({ jobQueue: "missing-queue" }))).rejects.toMatchObject({
      name: "ClientException",
      message: expect.stringMatching(/missing-queue does not exist/),
    });
    const tooMany = Array.from({ length: 101 }, (_, i) => `job-${i}`);
    await expect(client.send(new DescribeJobsCommand({ jobs: tooMany }))).rejects.toMatchObject({
      name: "ClientException",
      message: expect.stringMatching(/at most 100 job IDs/),
    });
    await expect(
      client.send(new CreateJobQueueCommand({ jobQueueName: "q", priority: 1, computeEnvironmentOrder: [] })),
    ).rejects.toMatchObject({ name: "ClientException", message: expect.stringMatching(/Unknown operation/) });
    const raw = await fetch(`${emulator.url}/v1/nosuchoperation`, { method: "POST", body: "{}" });
    expect(raw.status).toBe(400);
    expect(raw.headers.get("x-amzn-errortype")).toBe("ClientException");
    expect(await raw.json()).toEqual({ message: expect.stringContaining("nosuchoperation") });
    expect(emulator.stats().SubmitJob).toBe(cases.length);
  });

  it("starts RUNNABLE jobs by scheduling priority, then submission order", async () => {
    const { client } = await start({ maxConcurrentJobs: 1 });
    await register(client, "quick", node("setTimeout(() => {}, 200)"));
    const blocker = await submit(client, { jobDefinition: "quick" });
    await waitForStatus(client, blocker.jobId!, ["RUNNING"]);
    const low = await submit(client, { jobDefinition: "quick", schedulingPriorityOverride: 1 });
    const high = await submit(client, { jobDefinition: "quick", schedulingPriorityOverride: 9 });
    const [lowJob, highJob] = await Promise.all(
      [low, high].map((job) => waitForStatus(client, job.jobId!, ["SUCCEEDED"])),
    );
    expect(highJob?.startedAt).toBeLessThan(lowJob!.startedAt!);
  });

  it("lists jobs by queue with status, JOB_NAME filter and paging", async () => {
    const { client } = await start();
    await register(client, "listed", node("0"));
    const ids = [];
    for (const jobName of ["list-a-1", "list-a-2", "list-b"])
      ids.push((await submit(client, { jobName, jobDefinition: "listed" })).jobId!);
    for (const id of ids) await waitForStatus(client, id, ["SUCCEEDED"]);
    const filtered = await client.send(
      new ListJobsCommand({ jobQueue: QUEUE, filters: [{ name: "JOB_NAME", values: ["LIST-A*"] }] }),
    );
    expect(filtered.jobSummaryList?.map((job) => job.jobName)).toEqual(["list-a-2", "list-a-1"]);
    const page1 = await client.send(
      new ListJobsCommand({ jobQueue: QUEUE_ARN, jobStatus: "SUCCEEDED", maxResults: 2 }),
    );
    expect(page1.jobSummaryList).toHaveLength(2);
    const page2 = await client.send(
      new ListJobsCommand({
        jobQueue: QUEUE,
        jobStatus: "SUCCEEDED",
        maxResults: 2,
        nextToken: page1.nextToken,
      }),
    );
    expect(page2.jobSummaryList?.map((job) => job.jobName)).toEqual(["list-a-1"]);
    expect(page2.nextToken).toBeUndefined();
    expect((await client.send(new ListJobsCommand({ jobQueue: QUEUE }))).jobSummaryList).toEqual([]);
  });

  // The 10,000 and 100,000 scale is measured by `npm run bench`; here a large array, without timing asserts.
  it("status-only mode walks a 3,000-child array through every status and records every event", async () => {
    const { client, events, dataDir, stop, emulator } = await start({ mode: "status-only", stepDelayMs: 5 });
    await register(client, "bulk", node("process.exit(1)")); // never runs in status-only mode
    const { jobId } = await submit(client, { jobDefinition: "bulk", arrayProperties: { size: 3_000 } });
    const parent = await waitForStatus(client, jobId!, ["SUCCEEDED", "FAILED"], 60_000);
    expect(parent.status).toBe("SUCCEEDED");
    const expected = 3_000 * 4 + 2;
    await waitFor(() => events.length === expected, `${expected} events`, { timeoutMs: 60_000 });
    const child = await describeJob(client, `${jobId}:2999`);
    expect(child).toMatchObject({ status: "SUCCEEDED", attempts: [{ container: { exitCode: 0 } }] });
    const last = events.find((e) => e.detail.jobId === `${jobId}:1234` && e.detail.status === "SUCCEEDED");
    expect(last?.detail.attempts?.[0]?.container?.logStreamName).toMatch(/^bulk\/default\//);
    expect(emulator.stats().eventsDelivered).toBe(expected);
    await stop();
    const lines = readFileSync(join(dataDir, "events.ndjson"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(expected);
    expect(JSON.parse(lines[0]!).source).toBe("aws.batch");
  }, 120_000);

  it("status-only mode can deliver only the final event of each job", async () => {
    const { client, events } = await start({ mode: "status-only", statusOnlyEvents: "terminal" });
    await register(client, "quiet", node("0"));
    const single = await submit(client, { jobDefinition: "quiet" });
    const array = await submit(client, { jobDefinition: "quiet", arrayProperties: { size: 100 } });
    await waitForStatus(client, array.jobId!, ["SUCCEEDED"]);
    await waitForStatus(client, single.jobId!, ["SUCCEEDED"]);
    await waitFor(() => events.length === 102, "102 events");
    expect(events.every((event) => event.detail.status === "SUCCEEDED")).toBe(true);
    const job = await describeJob(client, single.jobId!);
    expect(job?.attempts?.[0]?.container?.exitCode).toBe(0);
  });

  it("retries failed deliveries like EventBridge and writes one events.ndjson line per delivered event", async () => {
    const failedOnce = new Set<string>();
    const delivered: BatchStateChangeEvent[] = [];
    const { client, dataDir, stop, emulator } = await start({
      onEvent: async (event) => {
        if (!failedOnce.has(event.id)) {
          failedOnce.add(event.id);
          throw new Error("target unavailable");
        }
        delivered.push(event);
      },
    });
    await register(client, "flaky", node("0"));
    const { jobId } = await submit(client, { jobDefinition: "flaky" });
    await waitForStatus(client, jobId!, ["SUCCEEDED"]);
    await waitFor(() => delivered.length === 5, "5 deliveries");
    expect(statusesOf(delivered, jobId!)).toEqual([
      "PENDING",
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "SUCCEEDED",
    ]);
    expect(emulator.stats()).toMatchObject({ eventsDelivered: 5, eventDeliveryFailures: 5 });
    await stop();
    const lines = readFileSync(join(dataDir, "events.ndjson"), "utf8").trimEnd().split("\n");
    expect(lines.map((line) => JSON.parse(line).id)).toEqual(delivered.map((event) => event.id));
  });

  it("dead-letters an event after 10 failed retries", async () => {
    const dataDir = tempDir();
    const stats = new Stats();
    let calls = 0;
    const delivery = new EventDelivery({
      dataDir,
      stats,
      concurrency: 2,
      backoffMs: () => 1,
      onEvent: async () => {
        calls++;
        throw new Error("always down");
      },
    });
    const event = (jobId: string) =>
      ({ id: jobId, detail: { jobId, status: "RUNNABLE" } }) as unknown as BatchStateChangeEvent;
    delivery.push(event("a"));
    delivery.push(event("b"));
    await delivery.idle();
    await delivery.close();
    expect(calls).toBe(22);
    expect(stats.snapshot()).toMatchObject({ eventsDead: 2, eventDeliveryFailures: 22 });
    const dead = readFileSync(join(dataDir, "events-dead.ndjson"), "utf8").trimEnd().split("\n");
    expect(dead.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ error: "always down", failures: 11 }),
      expect.objectContaining({ error: "always down", failures: 11 }),
    ]);
  });

  it("logs 2,000 events delivered 256 at a time without a MaxListeners warning (one drain wait per file)", async () => {
    // The local stack delivers 256 events at once; each delivered one is appended to events.ndjson. A
    // listener per waiting write would pass Node's limit of 10 'drain' listeners once the stream's
    // buffer is full (MaxListenersExceededWarning, issue 14).
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    try {
      const dataDir = tempDir();
      const delivery = new EventDelivery({
        dataDir,
        stats: new Stats(),
        concurrency: 256,
        onEvent: async () => {},
      });
      const padding = "x".repeat(4096);
      for (let i = 0; i < 2000; i++)
        delivery.push({
          id: `e${i}`,
          detail: { jobId: `job-${i}`, status: "RUNNABLE", statusReason: padding },
        } as unknown as BatchStateChangeEvent);
      await delivery.idle();
      await delivery.close();
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
      const lines = readFileSync(join(dataDir, "events.ndjson"), "utf8").trimEnd().split("\n");
      expect(lines).toHaveLength(2000);
      expect(warnings.filter((warning) => warning.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });

  it("keeps definitions and jobs across a restart and retries attempts whose host went away", async () => {
    const first = await start({ maxConcurrentJobs: 2 });
    await register(
      first.client,
      "survivor",
      node(`require("fs").writeFileSync(process.argv[1], String(process.pid));
            if (process.env.AWS_BATCH_JOB_ATTEMPT === "1") setInterval(() => {}, 1000);`),
    );
    const pidFile = join(first.dataDir, "pid");
    const done = await submit(first.client, {
      jobDefinition: "survivor",
      containerOverrides: { command: node("0") },
    });
    const interrupted = await submit(first.client, {
      jobDefinition: "survivor",
      retryStrategy: { attempts: 2 },
      containerOverrides: {
        command: node(`require("fs").writeFileSync(process.argv[1], String(process.pid));
          if (process.env.AWS_BATCH_JOB_ATTEMPT === "1") setInterval(() => {}, 1000);`).concat(pidFile),
      },
    });
    await waitForStatus(first.client, done.jobId!, ["SUCCEEDED"]);
    await waitForStatus(first.client, interrupted.jobId!, ["RUNNING"]);
    const pid = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, "utf8"), "pid file"));
    await first.stop();
    expect(() => process.kill(pid, 0)).toThrow(); // close() killed the process

    const second = await start({ dataDir: first.dataDir });
    const definitions = await second.client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: "survivor" }),
    );
    expect(definitions.jobDefinitions?.map((d) => d.revision)).toEqual([1]);
    expect((await describeJob(second.client, done.jobId!))?.status).toBe("SUCCEEDED");
    const job: JobDetail = await waitForStatus(second.client, interrupted.jobId!, ["SUCCEEDED", "FAILED"]);
    expect(job.status).toBe("SUCCEEDED");
    expect(job.attempts?.map((attempt) => attempt.statusReason)).toEqual([
      "Host EC2 (instance i-local) terminated.",
      "Essential container in task exited",
    ]);
    await waitForFinalEvent(second.events, interrupted.jobId!);
    expect(statusesOf(second.events, interrupted.jobId!)).toEqual([
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "SUCCEEDED",
    ]);
    const { jobId } = await submit(second.client, {
      jobDefinition: "survivor:1",
      containerOverrides: { command: node("0") },
    });
    await waitForStatus(second.client, jobId!, ["SUCCEEDED"]);
  });
});
