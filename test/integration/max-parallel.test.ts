import {
  BatchClient,
  CreateConsumableResourceCommand,
  DescribeConsumableResourceCommand,
  SubmitJobCommand,
} from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus } from "#lib/api/schemas.js";
import { parallelResourceOf } from "#lib/service/max-parallel.js";
import { eventually, startTestStack, type TestStack } from "./harness.js";

// Enough emulator slots (8) that only maxParallel can hold the batch back.
let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe("maxParallel", () => {
  it("a 20-job batch with maxParallel 3 never has more than 3 Running, and all succeed", async () => {
    const submitsBefore = stack.batch.stats().SubmitJob ?? 0;
    const created = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
      maxParallel: 3,
      jobScheduleDescriptions: Array.from({ length: 20 }, () => ({ payload: '{"sleepSeconds": 1}' })),
    });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect(created.body.maxParallel).toBe(3);
    // The cap costs no extra submissions: one SubmitJob for the batch's one group (an array of 20).
    expect((stack.batch.stats().SubmitJob ?? 0) - submitsBefore).toBe(1);
    const name = created.body.name;
    let most = 0;
    let mostInUse = 0;
    let sawWaitReason = false;
    const resource = new BatchClient({});
    const done = await eventually(
      async () => {
        const [{ body }, used] = await Promise.all([
          stack.api<BatchStatus>("GET", `/api/v1/batches/${name}?limit=20`),
          resource
            .send(new DescribeConsumableResourceCommand({ consumableResource: parallelResourceOf(name) }))
            .catch(() => undefined),
        ]);
        most = Math.max(most, body.jobCounts?.Running ?? 0);
        mostInUse = Math.max(mostInUse, used?.inUseQuantity ?? 0);
        sawWaitReason ||= body.jobStatuses.some((job) => job.statusReason?.includes("maxParallel"));
        return ["Succeeded", "Failed", "Stopped"].includes(body.status) ? body : undefined;
      },
      90_000,
      "batch to end",
    );
    expect(done.status).toBe("Succeeded");
    expect(done.jobCounts).toEqual({ Succeeded: 20 });
    expect(most).toBeGreaterThan(0);
    // What runs in AWS Batch at once, as Batch counts it (the API's counts follow events, which a loaded
    // machine can deliver out of order: an end seen after the next job's start).
    expect(mostInUse).toBeGreaterThan(0);
    expect(mostInUse).toBeLessThanOrEqual(3);
    expect(sawWaitReason).toBe(true);
    // The batch's consumable resource is deleted once it ended.
    await eventually(async () => {
      try {
        await new BatchClient({}).send(
          new DescribeConsumableResourceCommand({ consumableResource: parallelResourceOf(name) }),
        );
        return false;
      } catch (error) {
        return (error as Error).name === "ClientException";
      }
    });
  }, 120_000);

  it("refuses a maxParallel below 1 with 422 naming the field", async () => {
    const response = await stack.api<{ message: string }>("POST", "/api/v1/batches", {
      maxParallel: 0,
      jobScheduleDescriptions: [{}],
    });
    expect(response.status).toBe(422);
    expect(response.body.message).toContain("maxParallel");
  });
});

describe("the Batch emulator's consumable resources", () => {
  it("refuses what AWS refuses: a duplicate name, a quantity below 1, a job naming an unknown resource or more than the total", async () => {
    const client = new BatchClient({});
    await client.send(
      new CreateConsumableResourceCommand({ consumableResourceName: "emu-test", totalQuantity: 2 }),
    );
    await expect(
      client.send(
        new CreateConsumableResourceCommand({ consumableResourceName: "emu-test", totalQuantity: 2 }),
      ),
    ).rejects.toThrow(/already exists/);
    await expect(
      client.send(
        new CreateConsumableResourceCommand({ consumableResourceName: "emu-zero", totalQuantity: 0 }),
      ),
    ).rejects.toThrow(/totalQuantity/);
    const described = await client.send(
      new DescribeConsumableResourceCommand({ consumableResource: "emu-test" }),
    );
    expect(described).toMatchObject({ totalQuantity: 2, inUseQuantity: 0, availableQuantity: 2 });
    const queue = stack.deps.runtime.queues[0]!.queue;
    const submit = (consumableResource: string, quantity: number) =>
      client.send(
        new SubmitJobCommand({
          jobName: "emu-consumer",
          jobQueue: queue,
          jobDefinition: "sample-compute",
          consumableResourcePropertiesOverride: {
            consumableResourceList: [{ consumableResource, quantity }],
          },
        }),
      );
    await expect(submit("no-such-resource", 1)).rejects.toThrow(/does not exist/);
    await expect(submit("emu-test", 3)).rejects.toThrow(/total quantity of 2/);
  });
});
