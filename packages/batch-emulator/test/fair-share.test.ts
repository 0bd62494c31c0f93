import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type BatchClient,
  CancelJobCommand,
  DescribeJobsCommand,
  SubmitJobCommand,
  type SubmitJobCommandInput,
  TerminateJobCommand,
} from "@aws-sdk/client-batch";
import type { BatchEmulatorOptions } from "@local/batch-emulator";
import {
  FairShareScheduler,
  type JobRecord,
  PriorityScheduler,
  type Unit,
} from "@local/batch-emulator/internals";
import { describe, expect, it } from "vitest";
import { node, QUEUE, register, startEmulator, waitFor as waitUntil } from "./support.js";

const STEP_DELAY_MS = 5;

/** A queued unit as the scheduler sees it: only the fields that order it. */
const unitOf = (seq: number, shareIdentifier?: string, schedulingPriority?: number, index = -1): Unit => ({
  job: { seq, jobId: `job-${seq}`, shareIdentifier, schedulingPriority } as JobRecord,
  index,
});

describe("FairShareScheduler", () => {
  it("shares 4 slots 3:1 between shares of weight 3 and 1", () => {
    const scheduler = new FairShareScheduler({ heavy: 3, light: 1 });
    for (let i = 0; i < 400; i++) {
      scheduler.add(unitOf(2 * i, "heavy"));
      scheduler.add(unitOf(2 * i + 1, "light"));
    }
    // Four slots; the oldest attempt ends, then one more unit starts: one at a time.
    const running: Unit[] = [];
    const starts: (string | undefined)[] = [];
    const startNext = () => {
      const unit = scheduler.take()!;
      scheduler.started(unit);
      running.push(unit);
      starts.push(unit.job.shareIdentifier);
    };
    while (running.length < 4) startNext();
    while (starts.length < 200) {
      scheduler.finished(running.shift()!);
      startNext();
    }
    const heavy = starts.filter((share) => share === "heavy").length;
    const light = starts.filter((share) => share === "light").length;
    expect(heavy).toBeGreaterThanOrEqual(150 * 0.8);
    expect(heavy).toBeLessThanOrEqual(150 * 1.2);
    expect(light).toBeGreaterThanOrEqual(50 * 0.8);
    expect(light).toBeLessThanOrEqual(50 * 1.2);
    expect(scheduler.size).toBe(800 - 200);
  });

  it("orders a share by priority, then submission order, then array index", () => {
    const scheduler = new FairShareScheduler({ a: 2 });
    scheduler.add(unitOf(1, "a", 1));
    scheduler.add(unitOf(2, "a", 9, 1));
    scheduler.add(unitOf(2, "a", 9, 0));
    scheduler.add(unitOf(3, "a"));
    scheduler.add(unitOf(4, "a", 1));
    const order = [];
    for (let unit = scheduler.take(); unit; unit = scheduler.take()) order.push([unit.job.seq, unit.index]);
    expect(order).toEqual([
      [2, 0],
      [2, 1],
      [1, -1],
      [4, -1],
      [3, -1],
    ]);
  });

  it("does not count a taken unit that never started (cancelled while queued) as running", () => {
    const scheduler = new FairShareScheduler({ a: 1, b: 1 });
    for (const unit of [unitOf(1, "a"), unitOf(2, "a"), unitOf(3, "b"), unitOf(4, "b")]) scheduler.add(unit);
    expect(scheduler.take()?.job.seq).toBe(1); // skipped by the runner: no started()
    const second = scheduler.take()!;
    expect(second.job.seq).toBe(2); // share a still runs nothing, and its head was submitted first
    scheduler.started(second);
    expect(scheduler.take()?.job.seq).toBe(3);
  });

  it("frees a share's slot on finished() and ties on the earliest submitted head", () => {
    const scheduler = new FairShareScheduler({ a: 1, b: 1 });
    for (const unit of [unitOf(1, "b"), unitOf(2, "a"), unitOf(3, "a"), unitOf(4, "b")]) scheduler.add(unit);
    const first = scheduler.take()!;
    expect(first.job.shareIdentifier).toBe("b");
    scheduler.started(first);
    const second = scheduler.take()!;
    expect(second.job.shareIdentifier).toBe("a");
    scheduler.started(second);
    scheduler.finished(first);
    expect(scheduler.take()?.job.seq).toBe(4); // b runs nothing now, a runs one
  });

  it("puts jobs without a shareIdentifier in one default share: then it is the priority order", () => {
    const fair = new FairShareScheduler({});
    const plain = new PriorityScheduler();
    const units = [unitOf(1), unitOf(2, undefined, 5), unitOf(3), unitOf(4, undefined, 5, 2), unitOf(4)];
    for (const unit of units) {
      fair.add(unit);
      plain.add(unit);
    }
    const drain = (queue: FairShareScheduler | PriorityScheduler) => {
      const out = [];
      for (let unit = queue.take(); unit; unit = queue.take()) {
        queue.started(unit);
        out.push(unit);
      }
      return out;
    };
    expect(drain(fair)).toEqual(drain(plain));
  });

  it("refuses a weight that is not a positive number", () => {
    expect(() => new FairShareScheduler({ a: 0 })).toThrow(/shareWeights.a must be a positive number/);
    expect(() => new FairShareScheduler({ a: Number.NaN })).toThrow(/positive number/);
  });
});

const start = (options: Partial<BatchEmulatorOptions>) =>
  startEmulator({ stepDelayMs: STEP_DELAY_MS, ...options });

/** This file's waits: longer than the package's default (fair-share runs many jobs). */
const waitFor = <T>(probe: () => T | undefined | Promise<T | undefined>, what: string) =>
  waitUntil(probe, what, { timeoutMs: 30_000 });

/**
 * A unit is queued for a slot one walk step (`stepDelayMs`) after DescribeJobs shows it RUNNABLE. The
 * emulator runs in this process, so a longer timer set now fires after that step: an ordering, not a
 * timing assumption.
 */
const queuedSettle = () => new Promise((resolve) => setTimeout(resolve, STEP_DELAY_MS * 10));

const describeJobs = async (client: BatchClient, ids: string[]) =>
  (await client.send(new DescribeJobsCommand({ jobs: ids }))).jobs ?? [];

const waitForStatus = (client: BatchClient, ids: string[], statuses: string[]) =>
  waitFor(
    async () => {
      const jobs = await describeJobs(client, ids);
      return jobs.length === ids.length && jobs.every((job) => statuses.includes(job.status ?? ""))
        ? jobs
        : undefined;
    },
    `${ids.join(", ")} to reach ${statuses.join("|")}`,
  );

const submit = async (
  client: BatchClient,
  input: Partial<SubmitJobCommandInput> & { jobDefinition: string },
) => (await client.send(new SubmitJobCommand({ jobName: "job", jobQueue: QUEUE, ...input }))).jobId!;

const terminate = (client: BatchClient, jobId: string) =>
  client.send(new TerminateJobCommand({ jobId, reason: "slot freed by the test" }));

/** Appends its job id to the file named by its argument: the file lists jobs in the order they ran. */
const recordOrder = (file: string) =>
  node(`require("fs").appendFileSync(process.argv[1], process.env.AWS_BATCH_JOB_ID + "\\n")`).concat(file);

describe("local AWS Batch emulator: fair share and priority", () => {
  it("shares the slots among shareIdentifiers by weight (a: 3, b: 1)", async () => {
    const { client, emulator } = await start({ maxConcurrentJobs: 4, shareWeights: { a: 3, b: 1 } });
    await register(client, "forever", node("setInterval(() => {}, 1000)"));
    // Blockers (default share) hold every slot until both arrays are queued, so neither gets a head start.
    const blockers = [];
    for (let i = 0; i < 4; i++) blockers.push(await submit(client, { jobDefinition: "forever" }));
    await waitForStatus(client, blockers, ["RUNNING"]);
    const arrayA = await submit(client, {
      jobDefinition: "forever",
      shareIdentifier: "a",
      arrayProperties: { size: 40 },
    });
    const arrayB = await submit(client, {
      jobDefinition: "forever",
      shareIdentifier: "b",
      arrayProperties: { size: 40 },
    });
    await waitFor(async () => {
      const parents = await describeJobs(client, [arrayA, arrayB]);
      return parents.every((parent) => parent.arrayProperties?.statusSummary?.RUNNABLE === 40);
    }, "all children RUNNABLE");
    await queuedSettle();

    // Attempts end only when the test terminates them: every round frees the 4 slots, and which units
    // fill them depends on the scheduler alone, not on how long processes take.
    const stopped = new Set<string>();
    const running = () => Object.keys(emulator.processCounts()).filter((id) => !stopped.has(id));
    const childStarts = () => Object.keys(emulator.processCounts()).filter((id) => id.includes(":")).length;
    while (childStarts() < 40) {
      const ids = await waitFor(() => {
        const ids = running();
        return ids.length === 4 ? ids : undefined;
      }, "4 attempts running");
      for (const id of ids) stopped.add(id);
      for (const id of ids) await terminate(client, id);
      await waitFor(() => running().length === 4 || childStarts() >= 40, "the slots to fill again");
    }
    const started = Object.keys(emulator.processCounts()).filter((id) => id.includes(":"));
    expect(started).toHaveLength(40);
    const a = started.filter((id) => id.startsWith(`${arrayA}:`)).length;
    const b = started.filter((id) => id.startsWith(`${arrayB}:`)).length;
    expect(a + b).toBe(40);
    expect(a / b).toBeGreaterThanOrEqual(3 * 0.8);
    expect(a / b).toBeLessThanOrEqual(3 * 1.2);
  });

  /**
   * One slot, held by a job of share `a` (of weight `weightA`) that runs until terminated, and a `record`
   * definition whose jobs append their id to `order` when they run.
   */
  async function oneSlotHeld(weightA: number) {
    const started = await start({ maxConcurrentJobs: 1, shareWeights: { a: weightA } });
    const { client, dataDir } = started;
    const order = join(dataDir, "order.txt");
    await register(client, "forever", node("setInterval(() => {}, 1000)"));
    await register(client, "record", recordOrder(order));
    const blocker = await submit(client, { jobDefinition: "forever", shareIdentifier: "a" });
    await waitForStatus(client, [blocker], ["RUNNING"]);
    return { ...started, order, blocker };
  }

  it("starts a higher-priority job of a share before earlier lower-priority ones", async () => {
    const { client, order, blocker } = await oneSlotHeld(2);
    const low1 = await submit(client, {
      jobDefinition: "record",
      shareIdentifier: "a",
      schedulingPriorityOverride: 1,
    });
    const low2 = await submit(client, {
      jobDefinition: "record",
      shareIdentifier: "a",
      schedulingPriorityOverride: 1,
    });
    const high = await submit(client, {
      jobDefinition: "record",
      shareIdentifier: "a",
      schedulingPriorityOverride: 9,
    });
    await waitForStatus(client, [low1, low2, high], ["RUNNABLE"]);
    await queuedSettle();
    await terminate(client, blocker);
    const jobs = await waitForStatus(client, [low1, low2, high], ["SUCCEEDED"]);
    expect(readFileSync(order, "utf8").trimEnd().split("\n")).toEqual([high, low1, low2]);
    expect(jobs.map((job) => [job.schedulingPriority, job.shareIdentifier])).toEqual([
      [1, "a"],
      [1, "a"],
      [9, "a"],
    ]);
  });

  it("takes schedulingPriority from the definition unless overridden, within 0..9999", async () => {
    const { client } = await start({ mode: "status-only" });
    await register(client, "prioritised", node("0"), { schedulingPriority: 5 });
    const fromDefinition = await submit(client, { jobDefinition: "prioritised" });
    const overridden = await submit(client, { jobDefinition: "prioritised", schedulingPriorityOverride: 0 });
    const jobs = await describeJobs(client, [fromDefinition, overridden]);
    expect(jobs.map((job) => job.schedulingPriority)).toEqual([5, 0]);
    await expect(
      submit(client, { jobDefinition: "prioritised", schedulingPriorityOverride: 10_000 }),
    ).rejects.toMatchObject({
      name: "ClientException",
      message: expect.stringMatching(/schedulingPriorityOverride must be between 0 and 9999/),
    });
    await expect(register(client, "too-high", node("0"), { schedulingPriority: -1 })).rejects.toMatchObject({
      name: "ClientException",
      message: expect.stringMatching(/schedulingPriority must be between 0 and 9999/),
    });
  });

  it("cancels a RUNNABLE array child by <parent>:<index>; the other children still run", async () => {
    const { client, emulator, order, blocker } = await oneSlotHeld(1);
    const parent = await submit(client, {
      jobDefinition: "record",
      shareIdentifier: "a",
      arrayProperties: { size: 3 },
    });
    const children = [0, 1, 2].map((index) => `${parent}:${index}`);
    await waitForStatus(client, children, ["RUNNABLE"]);
    await queuedSettle();
    await client.send(new CancelJobCommand({ jobId: children[1]!, reason: "child not needed" }));
    const [cancelled] = await waitForStatus(client, [children[1]!], ["FAILED"]);
    expect(cancelled).toMatchObject({ statusReason: "child not needed", isCancelled: true, attempts: [] });
    await terminate(client, blocker);
    const [done] = await waitForStatus(client, [parent], ["FAILED"]);
    expect(done?.arrayProperties?.statusSummary).toMatchObject({ SUCCEEDED: 2, FAILED: 1 });
    expect(existsSync(order) && readFileSync(order, "utf8").trimEnd().split("\n")).toEqual([
      children[0],
      children[2],
    ]);
    expect(emulator.processCounts()[children[1]!]).toBeUndefined();
  });
});
