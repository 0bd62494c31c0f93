import type { Unit } from "./types.js";

/**
 * Which RUNNABLE unit starts next when a slot frees up. The queue order of AWS Batch without a
 * scheduling policy: higher `schedulingPriority` first, then submission order (then array index).
 * A fair-share implementation (weights by `shareIdentifier`) can replace this class behind
 * {@link RunnableQueue} without touching the lifecycle code.
 */
export interface RunnableQueue {
  add(unit: Unit): void;
  /** The next unit to start; entries whose unit is no longer RUNNABLE are skipped by the caller. */
  take(): Unit | undefined;
  readonly size: number;
}

const before = (a: Unit, b: Unit) => {
  const pa = a.job.schedulingPriority ?? 0;
  const pb = b.job.schedulingPriority ?? 0;
  if (pa !== pb) return pa > pb;
  if (a.job.seq !== b.job.seq) return a.job.seq < b.job.seq;
  return a.index < b.index;
};

/** A binary heap of units by (priority desc, submission order, array index). */
export class PriorityScheduler implements RunnableQueue {
  private readonly heap: Unit[] = [];

  get size() {
    return this.heap.length;
  }

  add(unit: Unit) {
    const heap = this.heap;
    heap.push(unit);
    let at = heap.length - 1;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (!before(heap[at]!, heap[parent]!)) break;
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
      if (left < heap.length && before(heap[left]!, heap[best]!)) best = left;
      if (right < heap.length && before(heap[right]!, heap[best]!)) best = right;
      if (best === at) break;
      [heap[at], heap[best]] = [heap[best]!, heap[at]!];
      at = best;
    }
    return top;
  }
}
