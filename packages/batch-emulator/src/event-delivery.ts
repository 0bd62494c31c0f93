import {
  createWriteStream,
  existsSync,
  readFileSync,
  rmSync,
  type WriteStream,
  writeFileSync,
} from "node:fs";
import type { Faults } from "./faults.js";
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
  /** Fault injection (drop, delay, reorder, duplicate); none when absent. */
  faults?: Faults;
}

interface Queued {
  event: BatchStateChangeEvent;
  failures: number;
  /** Fault injection: not delivered before this time (ms since epoch); the job's later events wait. */
  notBefore?: number;
  /** Fault injection: a second delivery of an event delivered already. */
  duplicate?: boolean;
}

const keyOf = (event: BatchStateChangeEvent) => event.detail.jobId ?? "";

const defaultBackoff = (retry: number) => Math.min(2000, 50 * 2 ** (retry - 1)) * (0.5 + Math.random() / 2);

/** Appends lines to a file through a stream, waiting for 'drain' so memory stays bounded. */
class LineWriter {
  private stream: WriteStream | undefined;
  /** The wait for the stream to drain, shared by every write made meanwhile (one listener, not one each). */
  private draining: Promise<void> | undefined;
  constructor(private readonly file: string) {}
  async write(line: string) {
    this.stream ??= createWriteStream(this.file, { flags: "a" });
    const stream = this.stream;
    if (stream.write(`${line}\n`)) return;
    this.draining ??= new Promise<void>((resolve) =>
      stream.once("drain", () => {
        this.draining = undefined;
        resolve();
      }),
    );
    await this.draining;
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
 *
 * With {@link Faults} it also does what EventBridge may do: drop an event (written to events.ndjson
 * with `"dropped": true` instead of delivered), delay it (the job's later events wait behind it), hold
 * it back until the job's next event was queued (out of order), or deliver it a second time (written
 * again with `"duplicate": true`). On close(), delayed and held-back events are saved to
 * events-pending.ndjson like any undelivered event; duplicate deliveries not made yet are discarded.
 */
export class EventDelivery {
  private readonly perJob = new Map<string, Queued[]>();
  private readonly ready: string[] = [];
  private readyHead = 0;
  private readonly retryReady: string[] = [];
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly retryTimers = new Map<NodeJS.Timeout, { key: string; item: Queued }>();
  /** Fault injection: per job, an event waiting for the job's next event, to be delivered after it. */
  private readonly heldBack = new Map<string, { item: Queued; timer: NodeJS.Timeout }>();
  /** Fault injection: second deliveries waiting for their moment. */
  private readonly duplicateTimers = new Set<NodeJS.Timeout>();
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
    const faults = this.options.faults;
    if (!faults?.eventFaults || this.closed) return this.enqueue({ event, failures: 0 });
    if (faults.roll("dropEvents")) {
      void this.delivered.write(JSON.stringify({ ...event, dropped: true }));
      return;
    }
    const item: Queued = { event, failures: 0 };
    if (faults.roll("delayEvents")) item.notBefore = Date.now() + faults.delayMs("delayEvents");
    const key = keyOf(event);
    const held = this.heldBack.get(key);
    if (held) {
      // An earlier event of this job waited for this one: it goes behind it.
      clearTimeout(held.timer);
      this.heldBack.delete(key);
      faults.count("reorderEvents");
      this.enqueue(item);
      this.enqueue(held.item);
      return;
    }
    if (faults.chance("reorderEvents")) {
      const timer = setTimeout(() => {
        // No later event came: deliver it anyway (late, not reordered).
        this.heldBack.delete(key);
        this.enqueue(item);
      }, faults.options.maxDelayMs);
      this.heldBack.set(key, { item, timer });
      return;
    }
    this.enqueue(item);
  }

  private enqueue(item: Queued) {
    const key = keyOf(item.event);
    const list = this.perJob.get(key);
    if (list) list.push(item);
    else {
      this.perJob.set(key, [item]);
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

  /** Resolves when nothing is queued, in flight, waiting for a retry or for an injected fault. */
  async idle() {
    while (
      !this.closed &&
      (this.queuedCount > 0 ||
        this.active > 0 ||
        this.retryTimers.size > 0 ||
        this.heldBack.size > 0 ||
        this.duplicateTimers.size > 0)
    )
      await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Re-queues events left undelivered by a previous run (events-pending.ndjson). */
  loadPending() {
    const file = pendingEventsFile(this.options.dataDir);
    if (!existsSync(file)) return;
    const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
    rmSync(file);
    // Faults were injected when these were first emitted: they are queued as they are.
    for (const line of lines) this.enqueue({ event: JSON.parse(line) as BatchStateChangeEvent, failures: 0 });
  }

  /**
   * Stops delivering: waits for calls in flight, saves what is left (including delayed and held-back
   * events) to events-pending.ndjson; injected duplicate deliveries not made yet are discarded.
   */
  async close() {
    this.closed = true;
    this.producersReleased = true;
    for (const [timer, { key, item }] of this.retryTimers) {
      clearTimeout(timer);
      this.requeueFront(key, item);
    }
    this.retryTimers.clear();
    for (const timer of this.duplicateTimers) clearTimeout(timer);
    this.duplicateTimers.clear();
    for (const { item, timer } of this.heldBack.values()) {
      clearTimeout(timer);
      this.enqueue(item);
    }
    this.heldBack.clear();
    await Promise.all(this.inFlight);
    const left = [...this.perJob.values()]
      .flat()
      .filter((item) => !item.duplicate)
      .map((item) => JSON.stringify(item.event));
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
      this.busy.add(key);
      const wait = item.notBefore === undefined ? 0 : item.notBefore - Date.now();
      item.notBefore = undefined;
      if (wait > 0) {
        this.later(key, item, wait); // an injected delay: the job's later events wait, no slot is taken
        continue;
      }
      this.active++;
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
      await this.delivered.write(
        JSON.stringify(item.duplicate ? { ...item.event, duplicate: true } : item.event),
      );
      if (!item.duplicate && !this.closed && this.options.faults?.roll("duplicateEvents")) {
        const faults = this.options.faults;
        const timer = setTimeout(() => {
          this.duplicateTimers.delete(timer);
          this.enqueue({ event: structuredClone(item.event), failures: 0, duplicate: true });
        }, faults.delayMs("duplicateEvents"));
        this.duplicateTimers.add(timer);
      }
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
    this.later(key, item, (this.options.backoffMs ?? defaultBackoff)(item.failures));
    this.pump();
  }

  /** Puts the item back at the front of its job's queue after `ms` (a retry backoff or injected delay). */
  private later(key: string, item: Queued, ms: number) {
    const timer = setTimeout(() => {
      this.retryTimers.delete(timer);
      this.requeueFront(key, item);
      this.pump();
    }, ms);
    this.retryTimers.set(timer, { key, item });
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
