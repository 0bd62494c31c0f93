import { PriorityScheduler, type RunnableQueue } from "./scheduler.js";
import type { Unit } from "./types.js";

/** Where jobs submitted without a `shareIdentifier` queue (weight 1 unless configured). */
type ShareKey = string | undefined;

const shareOf = (unit: Unit): ShareKey => unit.job.shareIdentifier;

/** True when `a` was submitted before `b` (then lower array index): the tie-break between shares. */
const submittedBefore = (a: Unit, b: Unit) =>
  a.job.seq !== b.job.seq ? a.job.seq < b.job.seq : a.index < b.index;

/**
 * A fair-share scheduling policy: slots are shared among the `shareIdentifier`s with queued work in
 * proportion to their weight (higher = more; AWS's `weightFactor` is the inverse, lower = more). The
 * next unit comes from the share with the lowest `running / weight`; ties go to the share whose next
 * unit was submitted first. Within a share the order is {@link PriorityScheduler}'s (priority, then
 * submission order, then array index). Running counts come from `started`/`finished`, not `take`, so a
 * unit taken and then skipped (cancelled while queued) never holds a share's capacity.
 */
export class FairShareScheduler implements RunnableQueue {
  /** Queued units per share; a share is dropped when its queue empties (running counts stay). */
  private readonly queues = new Map<ShareKey, PriorityScheduler>();
  private readonly running = new Map<ShareKey, number>();
  /** A Map, not the options object: a share named e.g. "constructor" must not find Object's. */
  private readonly weights = new Map<ShareKey, number>();
  private queued = 0;

  /** `weights`: share identifier -> weight; unknown shares (and jobs without one) weigh 1. */
  constructor(weights: Readonly<Record<string, number>> = {}) {
    for (const [share, weight] of Object.entries(weights)) {
      if (!(Number.isFinite(weight) && weight > 0))
        throw new Error(`shareWeights.${share} must be a positive number (got ${weight})`);
      this.weights.set(share, weight);
    }
  }

  get size() {
    return this.queued;
  }

  add(unit: Unit) {
    const share = shareOf(unit);
    const queue = this.queues.get(share) ?? new PriorityScheduler();
    this.queues.set(share, queue);
    queue.add(unit);
    this.queued++;
  }

  take(): Unit | undefined {
    let best: { share: ShareKey; queue: PriorityScheduler; head: Unit } | undefined;
    for (const [share, queue] of this.queues) {
      const head = queue.peek()!;
      if (!best) {
        best = { share, queue, head };
        continue;
      }
      // running/weight compared as cross products: no rounding between e.g. 1/3 and 2/6.
      const load = this.runningOf(share) * this.weightOf(best.share);
      const bestLoad = this.runningOf(best.share) * this.weightOf(share);
      if (load < bestLoad || (load === bestLoad && submittedBefore(head, best.head)))
        best = { share, queue, head };
    }
    if (!best) return undefined;
    best.queue.take();
    if (best.queue.size === 0) this.queues.delete(best.share);
    this.queued--;
    return best.head;
  }

  started(unit: Unit) {
    const share = shareOf(unit);
    this.running.set(share, this.runningOf(share) + 1);
  }

  finished(unit: Unit) {
    const share = shareOf(unit);
    const left = this.runningOf(share) - 1;
    if (left > 0) this.running.set(share, left);
    else this.running.delete(share);
  }

  private runningOf(share: ShareKey) {
    return this.running.get(share) ?? 0;
  }

  private weightOf(share: ShareKey) {
    return this.weights.get(share) ?? 1;
  }
}
