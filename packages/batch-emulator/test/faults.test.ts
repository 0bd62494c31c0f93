import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BatchClient,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
} from "@aws-sdk/client-batch";
import {
  type BatchEmulatorOptions,
  type BatchStateChangeEvent,
  FAULTS_ENV,
  type FaultOptions,
  startBatchEmulator,
} from "@local/batch-emulator";
import { Faults, normalizeFaults, Stats } from "@local/batch-emulator/internals";
import { describe, expect, it } from "vitest";
import { node, QUEUE, register, startEmulator, tempDir, waitFor as waitUntil } from "./support.js";

const FLOW = ["PENDING", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED"];

/** An event as the handler saw it, with the moment it arrived. */
interface Seen {
  event: BatchStateChangeEvent;
  at: number;
}

async function start(faults: FaultOptions | undefined, options: Partial<BatchEmulatorOptions> = {}) {
  const seen: Seen[] = [];
  const started = await startEmulator(
    {
      onEvent: async (event) => {
        seen.push({ event, at: Date.now() });
      },
      ...(faults ? { faults } : {}),
      ...options,
    },
    // maxAttempts 1: the SDK's own retries would hide the injected faults.
    { maxAttempts: 1 },
  );
  return { ...started, seen };
}

/** This file's waits: shorter and polled faster than the package's default. */
const waitFor = <T>(probe: () => T | undefined | Promise<T | undefined>, what: string) =>
  waitUntil(probe, what, { timeoutMs: 8000, pollMs: 10 });

const submit = (client: BatchClient, input: Partial<SubmitJobCommandInput> = {}) =>
  client.send(new SubmitJobCommand({ jobName: "job", jobQueue: QUEUE, jobDefinition: "ok", ...input }));

const describeJob = async (client: BatchClient, jobId: string) =>
  (await client.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];

const waitForStatus = (client: BatchClient, jobId: string, statuses = ["SUCCEEDED", "FAILED"]) =>
  waitFor(
    async () => {
      const job = await describeJob(client, jobId);
      return job && statuses.includes(job.status ?? "") ? job : undefined;
    },
    `${jobId} to reach ${statuses.join("|")}`,
  );

/** Every top-level job in the queue, whatever its status (a filter ignores jobStatus). */
const allJobs = async (client: BatchClient) =>
  (
    await client.send(
      new ListJobsCommand({ jobQueue: QUEUE, filters: [{ name: "JOB_NAME", values: ["*"] }] }),
    )
  ).jobSummaryList ?? [];

const statusesOf = (seen: Seen[], jobId: string) =>
  seen.filter((s) => s.event.detail.jobId === jobId).map((s) => s.event.detail.status);

const eventLines = (dataDir: string) =>
  readFileSync(join(dataDir, "events.ndjson"), "utf8")
    .trimEnd()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as BatchStateChangeEvent & { dropped?: true; duplicate?: true });

const faultStats = (stats: Record<string, number>) =>
  Object.fromEntries(Object.entries(stats).filter(([key]) => key.startsWith("fault.")));

/** What the error a BatchClient call threw looks like to a caller. */
async function failureOf(call: Promise<unknown>) {
  const error = (await call.then(
    () => undefined,
    (e: unknown) => e,
  )) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  return error && { name: error.name, message: error.message, status: error.$metadata?.httpStatusCode };
}

describe("local AWS Batch emulator: fault injection", () => {
  it("with every fault at 0 changes nothing, and counts one main process per attempt", async () => {
    const { client, seen, emulator, dataDir, stop } = await start({
      duplicateEvents: 0,
      reorderEvents: 0,
      dropEvents: 0,
      delayEvents: 0,
      throttleSubmitJob: 0,
      serverErrors: 0,
      submitAppliedThenError: 0,
    });
    await register(client, "ok", node("0"));
    const once = await submit(client);
    const retried = await submit(client, {
      retryStrategy: { attempts: 2 },
      containerOverrides: {
        command: ["node", "-e", "process.exit(process.env.AWS_BATCH_JOB_ATTEMPT === '1' ? 3 : 0)"],
      },
    });
    const array = await submit(client, { arrayProperties: { size: 2 } });
    for (const { jobId } of [once, retried, array]) await waitForStatus(client, jobId!);
    await waitFor(() => statusesOf(seen, array.jobId!).at(-1) === "SUCCEEDED", "the array's last event");
    await waitFor(
      () => statusesOf(seen, retried.jobId!).at(-1) === "SUCCEEDED",
      "the retried job's last event",
    );
    expect(statusesOf(seen, once.jobId!)).toEqual(FLOW);
    expect(statusesOf(seen, retried.jobId!)).toEqual([
      ...FLOW.slice(0, 4),
      "RUNNABLE",
      "STARTING",
      "RUNNING",
      "SUCCEEDED",
    ]);
    // Every unit ran exactly as many main-container processes as it has attempts.
    const counts = emulator.processCounts();
    const units = [once.jobId!, retried.jobId!, `${array.jobId}:0`, `${array.jobId}:1`];
    for (const id of units) expect(counts[id]).toBe((await describeJob(client, id))?.attempts?.length);
    expect(counts).toEqual({
      [once.jobId!]: 1,
      [retried.jobId!]: 2,
      [`${array.jobId}:0`]: 1,
      [`${array.jobId}:1`]: 1,
    });
    const stats = emulator.stats();
    expect(stats.processesStarted).toBe(5);
    expect(faultStats(stats)).toEqual({});
    expect(stats.eventsDelivered).toBe(seen.length);
    await stop();
    const lines = eventLines(dataDir);
    expect(lines.map((line) => line.id)).toEqual(seen.map((s) => s.event.id));
    expect(lines.some((line) => "dropped" in line || "duplicate" in line)).toBe(false);
  });

  it("duplicateEvents delivers each event twice with the same id, the copy marked in events.ndjson", async () => {
    const { client, seen, emulator, dataDir, stop } = await start({ duplicateEvents: 1, maxDelayMs: 50 });
    await register(client, "ok", node("0"));
    const { jobId } = await submit(client);
    await waitForStatus(client, jobId!);
    await waitFor(() => seen.length === 10, "10 deliveries");
    const ids = seen.map((s) => s.event.id);
    expect(new Set(ids).size).toBe(5);
    for (const id of new Set(ids)) expect(ids.filter((other) => other === id)).toHaveLength(2);
    const first = seen.find((s) => s.event.detail.status === "SUCCEEDED")!.event;
    const second = seen.findLast((s) => s.event.detail.status === "SUCCEEDED")!.event;
    expect(second).not.toBe(first);
    expect(second).toEqual(first);
    expect(emulator.stats()).toMatchObject({ "fault.duplicateEvents": 5, eventsDelivered: 10 });
    await stop();
    const lines = eventLines(dataDir);
    expect(lines).toHaveLength(10);
    expect(lines.filter((line) => line.duplicate === true)).toHaveLength(5);
    expect(new Set(lines.filter((line) => !line.duplicate).map((line) => line.id))).toEqual(new Set(ids));
  });

  it("reorderEvents delivers a held-back event after a later event of the same job", async () => {
    const { client, seen, emulator } = await start({ reorderEvents: 1, maxDelayMs: 100 });
    await register(client, "ok", node("0"));
    const { jobId } = await submit(client);
    await waitForStatus(client, jobId!);
    await waitFor(() => statusesOf(seen, jobId!).length === 5, "5 events");
    const statuses = statusesOf(seen, jobId!);
    expect(statuses).not.toEqual(FLOW);
    expect([...statuses].sort()).toEqual([...FLOW].sort());
    // Each held event waits for the job's next one; the last one has none and comes late, in place.
    expect(statuses).toEqual(["RUNNABLE", "PENDING", "RUNNING", "STARTING", "SUCCEEDED"]);
    expect(emulator.stats()["fault.reorderEvents"]).toBe(2);
  });

  it("dropEvents never calls onEvent, but events.ndjson records each event marked dropped", async () => {
    const { client, seen, emulator, dataDir, stop } = await start({ dropEvents: 1 });
    await register(client, "ok", node("0"));
    const { jobId } = await submit(client);
    const job = await waitForStatus(client, jobId!);
    expect(job.status).toBe("SUCCEEDED"); // DescribeJobs still tells the truth: the reconciler's way
    expect(emulator.stats()).toMatchObject({ "fault.dropEvents": 5 });
    expect(emulator.stats().eventsDelivered).toBeUndefined();
    await stop();
    expect(seen).toEqual([]);
    const lines = eventLines(dataDir);
    expect(lines.map((line) => line.detail.status)).toEqual(FLOW);
    expect(lines.every((line) => line.dropped === true && line.detail.jobId === jobId)).toBe(true);
  });

  it("delayEvents delivers events up to maxDelayMs late, still in order per job", async () => {
    const maxDelayMs = 400;
    const { client, seen, emulator } = await start({ delayEvents: 1, maxDelayMs });
    await register(client, "ok", node("0"));
    const { jobId } = await submit(client);
    await waitForStatus(client, jobId!);
    await waitFor(() => seen.length === 5, "5 events");
    expect(statusesOf(seen, jobId!)).toEqual(FLOW);
    const lateness = seen.map((s) => s.at - Date.parse(s.event.time));
    expect(Math.max(...lateness)).toBeGreaterThanOrEqual(100);
    for (const late of lateness) expect(late).toBeLessThan(maxDelayMs + 5_000); // generous: a loaded CI machine is slow, a missed bound is not
    expect(emulator.stats()["fault.delayEvents"]).toBe(5);
  });

  it("throttleSubmitJob answers 429 TooManyRequestsException and creates no job", async () => {
    const { client, emulator } = await start({ throttleSubmitJob: 1 });
    await register(client, "ok", node("0")); // only SubmitJob is throttled
    expect(await failureOf(submit(client))).toEqual({
      name: "TooManyRequestsException",
      message: "Too Many Requests",
      status: 429,
    });
    expect(await allJobs(client)).toEqual([]);
    expect(emulator.stats()).toMatchObject({ SubmitJob: 1, "fault.throttleSubmitJob": 1 });
    expect(emulator.processCounts()).toEqual({});
  });

  it("serverErrors answers 500 ServerException to any call and applies nothing", async () => {
    const first = await start(undefined);
    await register(first.client, "ok", node("0"));
    await first.stop();

    const faulty = await start({ serverErrors: 1 }, { dataDir: first.dataDir });
    expect(await failureOf(submit(faulty.client))).toMatchObject({ name: "ServerException", status: 500 });
    expect(await failureOf(register(faulty.client, "ok", node("1")))).toMatchObject({
      name: "ServerException",
      status: 500,
    });
    expect(await failureOf(allJobs(faulty.client))).toMatchObject({ name: "ServerException" });
    expect(faulty.emulator.stats()).toMatchObject({
      SubmitJob: 1,
      RegisterJobDefinition: 1,
      ListJobs: 1,
      "fault.serverErrors": 3,
    });
    await faulty.stop();

    const after = await start(undefined, { dataDir: first.dataDir });
    expect(await allJobs(after.client)).toEqual([]);
    const definitions = await after.client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: "ok" }),
    );
    expect(definitions.jobDefinitions?.map((d) => d.revision)).toEqual([1]);
  });

  it("submitAppliedThenError creates and runs the job but answers 500: a blind retry runs it twice", async () => {
    const { client, emulator } = await start({ submitAppliedThenError: 1 });
    await register(client, "ok", node("0"));
    expect(await failureOf(submit(client, { jobName: "once" }))).toMatchObject({
      name: "ServerException",
      status: 500,
    });
    const jobs = await allJobs(client);
    expect(jobs.map((job) => job.jobName)).toEqual(["once"]);
    expect(await failureOf(submit(client, { jobName: "once" }))).toMatchObject({ name: "ServerException" });
    const twice = await allJobs(client);
    expect(twice).toHaveLength(2);
    for (const job of twice) expect((await waitForStatus(client, job.jobId!)).status).toBe("SUCCEEDED");
    expect(Object.values(emulator.processCounts())).toEqual([1, 1]);
    expect(emulator.stats()).toMatchObject({
      SubmitJob: 2,
      processesStarted: 2,
      "fault.submitAppliedThenError": 2,
    });
  });

  it("reads the faults from BATCH_EMULATOR_FAULTS when the option is absent", async () => {
    const saved = process.env[FAULTS_ENV];
    try {
      process.env[FAULTS_ENV] = '{"throttleSubmitJob":1}';
      const fromEnv = await start(undefined);
      await register(fromEnv.client, "ok", node("0"));
      expect(await failureOf(submit(fromEnv.client))).toMatchObject({ name: "TooManyRequestsException" });
      expect(fromEnv.emulator.stats()["fault.throttleSubmitJob"]).toBe(1);

      const fromOption = await start({}); // the option wins over the environment
      await register(fromOption.client, "ok", node("0"));
      expect((await submit(fromOption.client)).jobId).toBeDefined();
      expect(faultStats(fromOption.emulator.stats())).toEqual({});

      process.env[FAULTS_ENV] = "{not json";
      await expect(
        startBatchEmulator({ dataDir: tempDir(), queues: [QUEUE], onEvent: async () => {} }),
      ).rejects.toThrow(/BATCH_EMULATOR_FAULTS is not valid JSON/);
      process.env[FAULTS_ENV] = '{"dropEvent":1}';
      await expect(
        startBatchEmulator({ dataDir: tempDir(), queues: [QUEUE], onEvent: async () => {} }),
      ).rejects.toThrow(/unknown fault option "dropEvent"/);
    } finally {
      if (saved === undefined) delete process.env[FAULTS_ENV];
      else process.env[FAULTS_ENV] = saved;
    }
  });

  it("close() saves delayed and held-back events to events-pending.ndjson and delivers them on restart", async () => {
    const { client, seen, dataDir, stop } = await start({
      delayEvents: 1,
      reorderEvents: 0.5,
      maxDelayMs: 60_000,
    });
    await register(client, "ok", node("0"));
    const { jobId } = await submit(client);
    await waitForStatus(client, jobId!);
    const startedClosing = Date.now();
    await stop();
    expect(Date.now() - startedClosing).toBeLessThan(15_000);
    expect(seen.length).toBeLessThan(5);
    const pending = readFileSync(join(dataDir, "events-pending.ndjson"), "utf8").trimEnd().split("\n");
    expect(pending.length + seen.length).toBe(5);

    const again = await start(undefined, { dataDir });
    await waitFor(() => again.seen.length + seen.length === 5, "the pending events");
    const all = [...seen, ...again.seen].map((s) => s.event.detail.status);
    expect([...all].sort()).toEqual([...FLOW].sort());
  });

  it("runs with several faults at once and still reaches a truthful DescribeJobs", async () => {
    const faults = {
      duplicateEvents: 0.3,
      reorderEvents: 0.3,
      dropEvents: 0.3,
      delayEvents: 0.3,
      maxDelayMs: 100,
      seed: 7,
    };
    const { client, seen, emulator, dataDir, stop } = await start(faults);
    await register(client, "ok", node("0"));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await submit(client, { jobName: `mixed-${i}` })).jobId!);
    for (const id of ids) expect((await waitForStatus(client, id)).status).toBe("SUCCEEDED");
    // Delays, holds and duplicates settle: every event not dropped arrived, and every duplicate.
    const settled = () => {
      const stats = emulator.stats();
      const expected =
        ids.length * 5 - (stats["fault.dropEvents"] ?? 0) + (stats["fault.duplicateEvents"] ?? 0);
      return seen.length === expected;
    };
    await waitFor(settled, "all deliveries");
    await new Promise((resolve) => setTimeout(resolve, 250));
    await waitFor(settled, "all deliveries, again");
    const stats = emulator.stats();
    for (const name of ["duplicateEvents", "reorderEvents", "dropEvents", "delayEvents"])
      expect(stats[`fault.${name}`]).toBeGreaterThan(0);
    await stop();
    const lines = eventLines(dataDir);
    const dropped = lines.filter((line) => line.dropped).length;
    const duplicates = lines.filter((line) => line.duplicate).length;
    expect(stats["fault.dropEvents"] ?? 0).toBe(dropped);
    expect(stats["fault.duplicateEvents"] ?? 0).toBe(duplicates);
    expect(lines.length - duplicates).toBe(ids.length * 5); // each emitted event once, dropped or delivered
    expect(seen.length).toBe(ids.length * 5 - dropped + duplicates);
    expect(Object.values(emulator.processCounts())).toEqual(ids.map(() => 1));
    expect(stats.processesStarted).toBe(ids.length);
  });

  it("draws the same decisions for the same seed, other ones for another seed", () => {
    const draws = (seed: number) => {
      const faults = new Faults({ dropEvents: 0.5, seed }, new Stats());
      return Array.from({ length: 64 }, () => faults.chance("dropEvents"));
    };
    expect(draws(1)).toEqual(draws(1));
    expect(draws(2)).not.toEqual(draws(1));
    const hits = draws(3).filter(Boolean).length;
    expect(hits).toBeGreaterThan(16);
    expect(hits).toBeLessThan(48);
    expect(() => normalizeFaults({ serverErrors: 1.5 }, "test")).toThrow(
      /serverErrors must be between 0 and 1/,
    );
    expect(() => normalizeFaults({ maxDelayMs: -1 }, "test")).toThrow(/maxDelayMs/);
    expect(normalizeFaults({}, "test")).toMatchObject({ maxDelayMs: 2000, seed: 1, dropEvents: 0 });
  });
});
