import { mkdirSync } from "node:fs";
import { AttemptRunner } from "./attempts.js";
import { ConsumableResources } from "./consumable-resources.js";
import { JobControl } from "./control.js";
import { DefinitionRegistry } from "./definitions.js";
import { JobBook } from "./engine.js";
import { clientError, serverError, tooManyRequests } from "./errors.js";
import { EventDelivery } from "./event-delivery.js";
import { FairShareScheduler } from "./fair-share.js";
import { Faults } from "./faults.js";
import { serveBatchApi } from "./http-server.js";
import { createOperations } from "./operations.js";
import { StatePersistence } from "./persistence.js";
import { PriorityScheduler, type RunnableQueue } from "./scheduler.js";
import { Stats } from "./stats.js";
import { buildTaskSpec } from "./task-spec.js";
import { type BatchEmulator, type BatchEmulatorOptions, S } from "./types.js";
import { Walker } from "./walker.js";

/** The message of an injected ServerException (AWS gives no detail either). */
const INJECTED_ERROR = "Internal Server Error";

/** Fair share when weights are configured; else AWS's order without a scheduling policy. */
const schedulerFor = (shareWeights: Record<string, number> | undefined): RunnableQueue =>
  shareWeights ? new FairShareScheduler(shareWeights) : new PriorityScheduler();

/**
 * Starts the local AWS Batch API on 127.0.0.1: the real `@aws-sdk/client-batch` works against `url`.
 * State from an earlier run in the same `dataDir` is loaded; attempts that were running then are failed
 * as a lost host ("Host EC2 (instance i-local) terminated.") and retried if attempts remain.
 * `options.faults` (else `BATCH_EMULATOR_FAULTS`) injects the failures AWS Batch and EventBridge have
 * (faults.ts): on events in event-delivery.ts, on API calls here.
 */
export async function startBatchEmulator(options: BatchEmulatorOptions): Promise<BatchEmulator> {
  const mode = options.mode ?? "run";
  const naming = {
    region: options.region ?? "eu-west-1",
    accountId: options.accountId ?? "000000000000",
    dataDir: options.dataDir,
  };
  mkdirSync(naming.dataDir, { recursive: true });
  const stats = new Stats();
  const faults = Faults.configure(options.faults, stats);
  const delivery = new EventDelivery({
    dataDir: naming.dataDir,
    onEvent: options.onEvent,
    stats,
    concurrency: Math.max(1, options.eventConcurrency ?? 8),
    ...(faults.eventFaults ? { faults } : {}),
  });
  const processCounts = new Map<string, number>();
  // Not kept across a restart of the emulator (a restart also ends every running attempt).
  const resources = new ConsumableResources(
    `arn:aws:batch:${naming.region}:${naming.accountId}:consumable-resource/`,
  );
  const definitions = new DefinitionRegistry(naming);
  const persistence = new StatePersistence(naming.dataDir, () => ({
    version: 1,
    seq: book.seq,
    definitions: definitions.toJSON(),
    jobs: book.order,
  }));
  const saveSoon = () => persistence.saveSoon();
  const book = new JobBook(
    naming,
    { mode, statusOnlyEvents: options.statusOnlyEvents ?? "all", stepDelayMs: options.stepDelayMs ?? 50 },
    delivery,
    saveSoon,
  );
  const runner =
    mode === "run"
      ? new AttemptRunner(book, schedulerFor(options.shareWeights), {
          dataDir: naming.dataDir,
          maxConcurrentJobs: Math.max(1, options.maxConcurrentJobs ?? 4),
          resources,
          killGraceMs: options.killGraceMs ?? 2000,
          timeoutScale: options.clock?.timeoutScale ?? 1,
          env: options.env ?? {},
          resolveSecret: options.resolveSecret,
          onMainProcess: (id) => {
            stats.inc("processesStarted");
            processCounts.set(id, (processCounts.get(id) ?? 0) + 1);
          },
        })
      : undefined;
  const walker = new Walker(book, delivery, options.stepDelayMs ?? 50, runner?.enqueue);
  book.onRetry = (unit) => walker.advance(unit);
  const control = new JobControl(book, delivery, runner);
  const queues = new Set(options.queues);

  const saved = persistence.load();
  if (saved) {
    definitions.load(saved.definitions);
    for (const job of saved.jobs) {
      const { name, revision } = job.definition;
      const definition = definitions.get(name, revision);
      if (!definition)
        throw new Error(
          `${naming.dataDir}: job ${job.jobId} names unknown job definition ${name}:${revision}`,
        );
      book.add({ ...job, task: buildTaskSpec(definition.body, job.overrides ?? {}, job.parameters) });
    }
    book.seq = Math.max(book.seq, saved.seq);
  }
  delivery.loadPending();

  const operations = createOperations({
    book,
    resources,
    definitions,
    queues,
    control,
    walker,
    stats,
    saveSoon,
  });
  const { server, url } = await serveBatchApi(options.port ?? 0, async (name, input, bytes) => {
    const operation = operations[name];
    if (!operation)
      throw clientError(`Unknown operation: ${name} is not supported by the local Batch emulator`);
    stats.inc(operation[0]);
    if (!faults.active) return operation[1](input, bytes);
    const submit = operation[0] === "SubmitJob";
    if (faults.roll("serverErrors")) throw serverError(INJECTED_ERROR);
    if (submit && faults.roll("throttleSubmitJob")) throw tooManyRequests();
    const result = operation[1](input, bytes);
    if (submit && faults.roll("submitAppliedThenError")) throw serverError(INJECTED_ERROR);
    return result;
  });

  // Resume what the previous run left: lost attempts first, then the timed walks.
  for (const job of book.order) {
    const table = job.array;
    if (table) {
      for (let index = 0; index < table.size; index++) {
        const code = table.status[index]!;
        if (code === S.STARTING || code === S.RUNNING) book.hostTerminated({ job, index });
      }
    } else {
      const code = book.code({ job, index: -1 });
      if (code === S.STARTING || code === S.RUNNING) book.hostTerminated({ job, index: -1 });
    }
    walker.advance({ job, index: -1 });
  }

  let closing: Promise<void> | undefined;
  const close = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    book.closing = true;
    delivery.releaseProducers();
    await walker.close();
    await runner?.close();
    await delivery.close();
    await persistence.flush();
  };
  return {
    url,
    close: () => {
      closing ??= close();
      return closing;
    },
    stats: () => stats.snapshot(),
    processCounts: () => Object.fromEntries(processCounts),
    provisionJobDefinition: (input, systemTags) => {
      const result = definitions.register(input, Buffer.byteLength(JSON.stringify(input)), systemTags);
      saveSoon();
      return result;
    },
  };
}
