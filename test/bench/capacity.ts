import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { LocalStack } from "#lib/local/stack.js";
import { createBatchEventsHandler } from "#lib/service/batch-events-handler.js";
import type { GroupRecord } from "#lib/store/job-store.js";
import { burstScope, createBatch, type HandlerStats, untilAllSucceeded } from "./bench-stack.js";
import type { CapacityMeter, CapacityTotals } from "./capacity-meter.js";
import { PRICES } from "./prices.js";
import { childStateChange, recordBatch } from "./recorded-batch.js";

/** The batch-events function's memory in AWS (cdk/constructs/job-scheduler-function.ts default). */
const EVENTS_MEMORY_GB = 0.5;

export interface CapacityRow {
  arrival: "trickle" | "burst";
  batchJobs: number;
  /** Jobs whose events were driven (trickle: the first ≤300 of the batch, every event of each). */
  jobs: number;
  events: number;
  invocations: number;
  wcuPerEvent: number;
  rcuPerEvent: number;
  wcuPerJob: number;
  rcuPerJob: number;
  largestWrite: number;
  /** Jobs per partition key the events path wrote (the most on one key). */
  jobsPerKey: number;
  msPerInvocation: number;
  /** The scheduler's own AWS cost per million jobs at these rates (USD). */
  costPerMillionJobs: number;
}

/** A long container reason, as an image-pull or OOM failure gives (AWS allows up to 1,024 characters). */
const LONG_REASON = `CannotStartContainerError: ${"x".repeat(480)}`;

interface JobEvent {
  ordinal: number;
  status: string;
  attempts: { startedAt: number; stoppedAt: number; exitCode?: number; reason?: string }[];
  reason?: string;
}

/**
 * A job's events as AWS Batch sends them (no event for SUBMITTED): RUNNABLE, STARTING, RUNNING and
 * SUCCEEDED; every fifth job first fails an attempt with a long reason and Batch retries it (RUNNABLE
 * again with the attempt in `attempts`), so retries are in the mix.
 */
function eventsOfJob(ordinal: number, t: number): JobEvent[] {
  const first = { startedAt: t, stoppedAt: t + 500, exitCode: 1, reason: LONG_REASON };
  const last = { startedAt: t + 1000, stoppedAt: t + 2000, exitCode: 0 };
  if (ordinal % 5 !== 0) {
    return [
      { ordinal, status: "STARTING", attempts: [] },
      { ordinal, status: "RUNNING", attempts: [] },
      {
        ordinal,
        status: "SUCCEEDED",
        attempts: [{ ...last, startedAt: t }],
        reason: "Essential container in task exited",
      },
    ];
  }
  return [
    { ordinal, status: "STARTING", attempts: [] },
    { ordinal, status: "RUNNING", attempts: [] },
    { ordinal, status: "RUNNABLE", attempts: [first] },
    { ordinal, status: "STARTING", attempts: [first] },
    { ordinal, status: "RUNNING", attempts: [first] },
    { ordinal, status: "SUCCEEDED", attempts: [first, last], reason: "Essential container in task exited" },
  ];
}

function sqsRecordOf(batchName: string, groups: GroupRecord[], event: JobEvent) {
  const now = Date.now();
  const body = childStateChange(batchName, groups, event.ordinal, {
    id: randomUUID(),
    time: now,
    status: event.status,
    statusReason: event.reason,
    startedAt: event.status === "RUNNABLE" ? undefined : (event.attempts[0]?.startedAt ?? now),
    stoppedAt: event.status === "SUCCEEDED" ? now : undefined,
    attempts: event.attempts.map((attempt) => ({
      startedAt: attempt.startedAt,
      stoppedAt: attempt.stoppedAt,
      container: {
        exitCode: attempt.exitCode,
        reason: attempt.reason,
        logStreamName: `compute/default/${randomUUID().replaceAll("-", "")}`,
      },
    })),
  });
  return {
    messageId: randomUUID(),
    body: JSON.stringify(body),
    attributes: { ApproximateReceiveCount: "1" },
  };
}

function rowOf(
  arrival: CapacityRow["arrival"],
  batchJobs: number,
  jobs: number,
  events: number,
  invocations: number,
  totals: CapacityTotals,
  elapsedMs: number,
): CapacityRow {
  const jobsPerKey = Math.max(
    1,
    Math.round(
      jobs / Math.max(1, [...totals.keysWritten.keys()].filter((key) => key.startsWith("B#")).length),
    ),
  );
  const msPerInvocation = elapsedMs / Math.max(1, invocations);
  // Per job: DynamoDB units; one SQS message per event (send, receive and delete: 3 requests, receives
  // and deletes batched by up to 10); product events ≈ 3 per job (Waiting→Active→Running→Succeeded);
  // one Lambda invocation per SQS batch, for the time measured here.
  const perJob =
    (totals.wcu / jobs) * PRICES.dynamoWriteUnit +
    (totals.rcu / jobs) * PRICES.dynamoReadUnit +
    (events / jobs) * (1 + 2 / 10) * PRICES.sqsRequest +
    3 * PRICES.eventBridgeEvent +
    (invocations / jobs) *
      (PRICES.lambdaRequest + (msPerInvocation / 1000) * EVENTS_MEMORY_GB * PRICES.lambdaGbSecond);
  return {
    arrival,
    batchJobs,
    jobs,
    events,
    invocations,
    wcuPerEvent: totals.wcu / events,
    rcuPerEvent: totals.rcu / events,
    wcuPerJob: totals.wcu / jobs,
    rcuPerJob: totals.rcu / jobs,
    largestWrite: totals.largestWrite,
    jobsPerKey,
    msPerInvocation,
    costPerMillionJobs: perJob * 1e6,
  };
}

/**
 * Trickle: one event per invocation, as a GPU batch finishes a few jobs at a time. The first ≤300 jobs
 * of a batch of `batchJobs` get RUNNABLE each, then one job after another its whole life.
 */
export async function benchTrickle(
  stack: LocalStack,
  meter: CapacityMeter,
  batchJobs: number,
): Promise<CapacityRow> {
  const { name, groups } = await recordBatch(stack, batchJobs);
  const jobs = Math.min(batchJobs, 300);
  const handler = createBatchEventsHandler(stack.deps);
  const t = Date.now();
  const events: JobEvent[] = [
    ...Array.from({ length: jobs }, (_, ordinal) => ({ ordinal, status: "RUNNABLE", attempts: [] })),
    ...Array.from({ length: jobs }, (_, ordinal) => eventsOfJob(ordinal, t)).flat(),
  ];
  const started = performance.now();
  const { totals } = await meter.measure(async () => {
    for (const event of events) {
      const result = (await handler({ Records: [sqsRecordOf(name, groups, event)] })) as {
        batchItemFailures: unknown[];
      };
      if (result.batchItemFailures.length) throw new Error("bench: an event was not recorded");
    }
  });
  return rowOf("trickle", batchJobs, jobs, events.length, events.length, totals, performance.now() - started);
}

/**
 * Burst: a real batch on the local stack with the status-only emulator, whose events arrive in SQS
 * batches of up to 500 (the local delivery window). Counts every DynamoDB call from creation to the
 * last job Succeeded, creation included.
 */
export async function benchBurst(
  stack: LocalStack,
  meter: CapacityMeter,
  jobs: number,
  stats: HandlerStats,
): Promise<CapacityRow & { creation: CapacityTotals }> {
  const url = Object.values(stack.urls)[0]!;
  // Creation: the request and the submission it starts (everything until the batch is in Batch).
  const created = await meter.measure(
    () =>
      createBatch(url, {
        jobScheduleDescriptions: Array.from({ length: jobs }, (_, i) => ({ payload: `{"i":${i}}` })),
      }),
    () => burstScope.getStore() === undefined,
  );
  const before = { ...stats };
  // Events: only what the events handler does (the bench's own polling is not counted).
  const { totals } = await meter.measure(
    () =>
      untilAllSucceeded(url, created.result, jobs, {
        timeoutMs: 3_600_000,
        pollMs: jobs > 1000 ? 1000 : 200,
      }),
    () => burstScope.getStore() !== undefined,
  );
  const events = stats.events - before.events;
  const invocations = stats.invocations - before.invocations;
  const sum: CapacityTotals = {
    ...totals,
    wcu: totals.wcu + created.totals.wcu,
    rcu: totals.rcu + created.totals.rcu,
  };
  return {
    ...rowOf("burst", jobs, jobs, events, invocations, sum, stats.handlerMs - before.handlerMs),
    creation: created.totals,
  };
}
