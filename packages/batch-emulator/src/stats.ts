/** Counters behind `BatchEmulator.stats()`: calls by operation and event delivery outcomes. */
export class Stats {
  private readonly counts: Record<string, number> = {};

  inc(name: string, by = 1) {
    this.counts[name] = (this.counts[name] ?? 0) + by;
  }

  snapshot(): Record<string, number> {
    return { ...this.counts };
  }
}
