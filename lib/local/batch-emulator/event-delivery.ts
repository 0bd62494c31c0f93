import {
  createWriteStream,
  existsSync,
  readFileSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from "node:fs";
import { deadEventsFile, eventsFile, pendingEventsFile } from "./paths.js";
import type { Stats } from "./stats.js";
import type { BatchStateChangeEvent } from "./types.js";

export interface DeliveryOptions {
  dataDir: string;
  onEvent: (event: BatchStateChangeEvent) => Promise<void>;
  stats: Stats;
  /** Parallel deliveries. */
  concurrency: number;
  /** Retries after the first failure before the event goes to events-dead.ndjson (EventBridge-like). */
  maxRetries?: number;
  /** Backoff before retry n (1-based). */
  backoffMs?: (retry: number) => number;
}

interface Queued {
  event: BatchStateChangeEvent;
  failures: number;
}

const defaultBackoff = (retry: number) => Math.min(2000, 50 * 2 ** (retry - 1)) * (0.5 + Math.random() / 2);

/** Appends lines to a file through a stream, waiting for 'drain' so memory stays bounded. */
class LineWriter {
  private stream: WriteStream | undefined;
  constructor(private readonly file: string) {}
  async write(line: string) {
    this.stream ??= createWriteStream(this.file, { flags: "a" });
    if (!this.stream.write(`${line}\n`))
      await new Promise<void>((resolve) => this.stream!.once("drain", () => resolve()));
  }
  async end() {
    const stream = this.stream;
    this.stream = undefined;
    if (stream) await new Promise<void>((resolve) => stream.end(() => resolve()));
  }
}

/**
 * The EventBridge rule target, locally: a bounded-concurrency queue that calls `onEvent`, retries failed
 * deliveries with backoff (up to 10 retries, then events-dead.ndjson) and appends each delivered event
 * to events.ndjson. Events of one job are delivered one at a time, in order (EventBridge guarantees no
 * order; this only makes local runs reproducible). Undelivered events survive close() and restart.
 */
export class EventDelivery {
  private readonly perJob = new Map<string, Queued[]>();
  private readonly ready: string[] = [];
  private readyHead = 0;
  private readonly retryReady: string[] = [];
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Map<NodeJS.Timeout, { key: string; item: Queued }>();
  private waiters: (() => void)[] = [];
  private queuedCount = 0;
  private active = 0;
  private closed = false;
  private producersReleased = false;
  private readonly delivered: LineWriter;
  private readonly dead: LineWriter;

  constructor(private readonly options: DeliveryOptions) {
    this.delivered = new LineWriter(eventsFile(options.dataDir));
    this.dead = new LineWriter(deadEventsFile(options.dataDir));
  }

  /** Events waiting for delivery (not counting those in flight or waiting to be retried). */
  get queued() {
    return this.queuedCount;
  }

  push(event: BatchStateChangeEvent) {
    const key = event.detail.jobId ?? "";
    const list = this.perJob.get(key);
    if (list) list.push({ event, failures: 0 });
    else {
      this.perJob.set(key, [{ event, failures: 0 }]);
      if (!this.busy.has(key)) this.ready.push(key);
    }
    this.queuedCount++;
    this.pump();
  }

  /** Resolves once fewer than `limit` events wait: producers of bulk transitions pace themselves on it. */
  async waitForRoom(limit: number) {
    while (this.queuedCount >= limit && !this.producersReleased)
      await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Shutdown: producers waiting in {@link waitForRoom} go on at once (and see that the emulator closes). */
  releaseProducers() {
    this.producersReleased = true;
    this.notify();
  }

  /** Resolves when nothing is queued, in flight or waiting for a retry. */
  async idle() {
    while (!this.closed && (this.queuedCount > 0 || this.active > 0 || this.retryTimers.size > 0))
      await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Re-queues events left undelivered by a previous run (events-pending.ndjson). */
  loadPending() {
    const file = pendingEventsFile(this.options.dataDir);
    if (!existsSync(file)) return;
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    rmSync(file);
    for (const line of lines) this.push(JSON.parse(line) as BatchStateChangeEvent);
  }

  /** Stops delivering: waits for calls in flight, saves what is left to events-pending.ndjson. */
  async close() {
    this.closed = true;
    this.producersReleased = true;
    for (const [timer, { key, item }] of this.retryTimers) {
      clearTimeout(timer);
      this.requeueFront(key, item);
    }
    this.retryTimers.clear();
    await Promise.all(this.inFlight);
    const left = [...this.perJob.values()].flat().map((item) => JSON.stringify(item.event));
    if (left.length) writeFileSync(pendingEventsFile(this.options.dataDir), `${left.join("\n")}\n`);
    await this.delivered.end();
    await this.dead.end();
    this.notify();
  }

  private nextKey(): string | undefined {
    if (this.retryReady.length) return this.retryReady.shift();
    if (this.readyHead >= this.ready.length) return undefined;
    const key = this.ready[this.readyHead++];
    if (this.readyHead > 1024 && this.readyHead * 2 > this.ready.length) {
      this.ready.splice(0, this.readyHead);
      this.readyHead = 0;
    }
    return key;
  }

  private pump() {
    while (!this.closed && this.active < this.options.concurrency) {
      const key = this.nextKey();
      if (key === undefined) break;
      const list = this.perJob.get(key);
      const item = list?.shift();
      if (!list || !item) continue;
      if (!list.length) this.perJob.delete(key);
      this.queuedCount--;
      this.active++;
      this.busy.add(key);
      const delivery = this.deliver(key, item).finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
    this.notify();
  }

  private async deliver(key: string, item: Queued) {
    const { stats } = this.options;
    try {
      await this.options.onEvent(item.event);
      stats.inc("eventsDelivered");
      await this.delivered.write(JSON.stringify(item.event));
      return this.release(key);
    } catch (error) {
      item.failures++;
      stats.inc("eventDeliveryFailures");
      if (item.failures > (this.options.maxRetries ?? 10)) {
        stats.inc("eventsDead");
        const message = error instanceof Error ? error.message : String(error);
        await this.dead.write(JSON.stringify({ error: message, failures: item.failures, event: item.event }));
        return this.release(key);
      }
    }
    this.active--;
    if (this.closed) {
      this.requeueFront(key, item);
      return;
    }
    const timer = setTimeout(
      () => {
        this.retryTimers.delete(timer);
        this.requeueFront(key, item);
        this.pump();
      },
      (this.options.backoffMs ?? defaultBackoff)(item.failures),
    );
    this.retryTimers.set(timer, { key, item });
    this.pump();
  }

  private requeueFront(key: string, item: Queued) {
    const list = this.perJob.get(key);
    if (list) list.unshift(item);
    else this.perJob.set(key, [item]);
    this.queuedCount++;
    this.busy.delete(key);
    this.retryReady.push(key);
  }

  private release(key: string) {
    this.active--;
    this.busy.delete(key);
    if (this.perJob.has(key)) this.ready.push(key);
    this.pump();
  }

  private notify() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
