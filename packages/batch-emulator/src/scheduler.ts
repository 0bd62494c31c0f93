import type { Unit } from "./types.js";

/**
 * Which RUNNABLE unit starts next when a slot frees up. {@link PriorityScheduler} is the queue order of
 * AWS Batch without a scheduling policy; {@link FairShareScheduler} (fair-share.ts) shares the slots
 * among `shareIdentifier`s by weight. The lifecycle code only sees this interface.
 */
export interface RunnableQueue {
  add(unit: Unit): void;
  /** The next unit to start; entries whose unit is no longer RUNNABLE are skipped by the caller. */
  take(): Unit | undefined;
  /**
   * A unit from {@link take} got a slot (its attempt is STARTING). Not called for units the caller
   * skipped, so a job cancelled while queued never counts as running.
   */
  started(unit: Unit): void;
  /** The attempt of a {@link started} unit ended (exit, stop, or the emulator closing): its slot is free. */
  finished(unit: Unit): void;
  readonly size: number;
}

/** Queue order within one queue (or one share): priority desc, then submission order, then array index. */
export const startsBefore = (a: Unit, b: Unit) => {
  const pa = a.job.schedulingPriority ?? 0;
  const pb = b.job.schedulingPriority ?? 0;
  if (pa !== pb) return pa > pb;
  if (a.job.seq !== b.job.seq) return a.job.seq < b.job.seq;
  return a.index < b.index;
};

/** A binary heap of units by {@link startsBefore}; what runs does not change the order. */
export class PriorityScheduler implements RunnableQueue {
  private readonly heap: Unit[] = [];

  get size() {
    return this.heap.length;
  }

  /** The unit {@link take} would return, left in place. */
  peek(): Unit | undefined {
    return this.heap[0];
  }

  add(unit: Unit) {
    const heap = this.heap;
    heap.push(unit);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!startsBefore(heap[at]!, heap[parent]!)) break;
      [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
      at = parent;
    }
  }

  take(): Unit | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (!top || !last || heap.length === 0) return top;
    heap[0] = last;
    let at = 0;
    for (;;) {
      const left = at * 2 + 1;
      const right = left + 1;
      let best = at;
      if (left < heap.length && startsBefore(heap[left]!, heap[best]!)) best = left;
      if (right < heap.length && startsBefore(heap[right]!, heap[best]!)) best = right;
      if (best === at) break;
      [heap[at], heap[best]] = [heap[best]!, heap[at]!];
      at = best;
    }
    return top;
  }

  started() {}

  finished() {}
}
