import { performance } from "node:perf_hooks";
import { SubmitJobCommand } from "@aws-sdk/client-batch";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalStack } from "#lib/local/stack.js";
import { countsOf } from "#lib/service/views.js";
import { DynamoJobStore } from "#lib/store/dynamo-job-store.js";
import { SHARD_SIZE } from "#lib/store/job-store.js";
import { createAwsClients } from "#lib/wiring/aws-deps.js";
import { burstScope, createBatch, startBenchStack } from "./bench-stack.js";
import { CallCounter } from "./counting.js";
import { benchEvents, type EventRow } from "./events.js";

/**
 * Issue 4's bench: batches of 10 to 100,000 jobs on the local stack (status-only Batch emulator, so it
 * measures the scheduler, not the sample job), and the naive way (one SubmitJob, one PutItem, one
 * PutObject per job) for 1,000 and 10,000 in the same run.
 */
export interface BatchRow {
  jobs: number;
  way: "array" | "naive";
  calls: Record<string, number>;
  answerMs: number;
  submittedMs: number;
  allSucceededMs?: number;
  arrayJobs?: number;
  countsExact?: boolean;
}

async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("bench: timed out");
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function benchBatches(
  sizes: number[],
  naiveSizes: number[],
): Promise<{ rows: BatchRow[]; events: EventRow[] }> {
  // Calls made while handling state events (burstScope: the emulator driving a batch) are per-event
  // costs, measured apart (benchEvents). Only counted, not metered: nothing rides on the calls timed.
  const counter = new CallCounter(() => burstScope.getStore() !== undefined);
  const { stack, url, close } = await startBenchStack("bench", { metered: false });
  try {
    counter.attach("DynamoDB", stack.clients.dynamoRaw);
    counter.attach("S3", stack.clients.s3);
    counter.attach("Batch", stack.clients.batch);
    counter.attach("Batch", stack.clients.batchSubmit);
    // The isolated per-event measurement counts every call (its events are not in eventScope).
    const eventCounter = new CallCounter();
    eventCounter.attach("DynamoDB", stack.clients.dynamoRaw);
    // The bench's own polling uses separate, uncounted clients.
    const observer = new DynamoJobStore(createAwsClients().dynamo, stack.runtime.tableName);
    const rows: BatchRow[] = [];

    for (const jobs of sizes) {
      const body = JSON.stringify({
        jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({
          jobId: `j${i}`,
          payload: `{"i":${i}}`,
        })),
      });
      const before = counter.snapshot();
      const started = performance.now();
      const name = await createBatch(url, body);
      const answerMs = performance.now() - started;
      const groups = await waitFor(async () => {
        const all = await observer.listGroups(name);
        return all.every((group) => group.state === "submitted") ? all : undefined;
      }, 600_000);
      const submittedMs = performance.now() - started;
      const creationCalls = counter.since(before);
      const row: BatchRow = {
        jobs,
        way: "array",
        calls: creationCalls,
        answerMs,
        submittedMs,
        arrayJobs: groups.length,
      };
      const size = jobs;
      const succeeded = await waitFor(
        async () => {
          const counts = countsOf(await observer.getSummaries(name, Math.ceil(size / SHARD_SIZE)));
          return counts.Succeeded === size ? counts : undefined;
        },
        3_600_000,
        jobs > 10_000 ? 5_000 : 200,
      );
      row.allSucceededMs = performance.now() - started;
      row.countsExact = Object.entries(succeeded).every(([status, n]) =>
        status === "Succeeded" ? n === size : n === 0,
      );
      rows.push(row);
      console.error(`bench: ${jobs} jobs done (${Math.round(row.allSucceededMs)} ms)`);
    }

    for (const jobs of naiveSizes) rows.push(await naive(stack, counter, jobs));

    const events: EventRow[] = [];
    for (const jobs of [10, 10_000]) events.push(await benchEvents(stack, eventCounter, jobs));
    return { rows, events };
  } finally {
    await close();
  }
}

/** The naive way: every job its own S3 object, DynamoDB item and SubmitJob call (16 in flight). */
async function naive(stack: LocalStack, counter: CallCounter, jobs: number): Promise<BatchRow> {
  const before = counter.snapshot();
  const started = performance.now();
  const { clients, runtime } = stack;
  const queue = runtime.queues.find((candidate) => candidate.key === "cpu")!.queue;
  const definition = await stack.deps.batch.jobDefinitionFor(runtime.components[0]!.jobDefinition, undefined);
  let next = 0;
  const worker = async () => {
    while (next < jobs) {
      const i = next++;
      const key = `naive/${jobs}/${i}`;
      await clients.s3.send(
        new PutObjectCommand({ Bucket: runtime.bucketName, Key: key, Body: `{"i":${i}}` }),
      );
      await clients.dynamo.send(
        new PutCommand({
          TableName: runtime.tableName,
          Item: { pk: `NAIVE#${jobs}`, sk: String(i), status: "Waiting", payloadKey: key },
        }),
      );
      await clients.batch.send(
        new SubmitJobCommand({ jobName: `naive-${jobs}-${i}`, jobQueue: queue, jobDefinition: definition }),
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  const elapsed = performance.now() - started;
  return { jobs, way: "naive", calls: counter.since(before), answerMs: elapsed, submittedMs: elapsed };
}
