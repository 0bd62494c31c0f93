import { isDone, type RunState, S, STATUSES } from "./run-state.js";

/**
 * The children of one array job, kept compact: a status byte and two timestamps per child in typed
 * arrays, plus a sparse map of {@link RunState} for the children that ran processes, were cancelled or
 * retried. A 10,000-child status-only array costs about 170 KB and no per-child objects.
 */
export class ChildTable {
  readonly status: Uint8Array;
  readonly startedAt: Float64Array;
  readonly stoppedAt: Float64Array;
  readonly extras = new Map<number, RunState>();
  /** Children per status code, kept in step with `status`. */
  readonly counts = new Int32Array(STATUSES.length);
  summaryUpdatedAt: number;

  constructor(
    readonly size: number,
    now: number,
  ) {
    this.status = new Uint8Array(size);
    this.startedAt = new Float64Array(size);
    this.stoppedAt = new Float64Array(size);
    this.counts[S.SUBMITTED] = size;
    this.summaryUpdatedAt = now;
  }

  get ended(): number {
    return this.counts[S.SUCCEEDED]! + this.counts[S.FAILED]!;
  }

  get anyFailed(): boolean {
    return this.counts[S.FAILED]! > 0;
  }

  set(index: number, code: number, now: number) {
    const previous = this.status[index]!;
    if (previous === code) return;
    this.counts[previous]!--;
    this.counts[code]!++;
    this.status[index] = code;
    this.summaryUpdatedAt = now;
    if (code === S.RUNNING) this.startedAt[index] = now;
    if (isDone(code)) this.stoppedAt[index] = now;
  }

  /** The parent left SUBMITTED: its children exist now, in PENDING (no event, like SUBMITTED for a job). */
  promoteSubmitted(now: number) {
    for (let index = 0; index < this.size; index++)
      if (this.status[index] === S.SUBMITTED) this.set(index, S.PENDING, now);
  }

  /** The child's run state, created on first need (a child that never needs one costs nothing). */
  extra(index: number): RunState {
    let state = this.extras.get(index);
    if (!state) {
      state = { attempts: [] };
      this.extras.set(index, state);
    }
    return state;
  }

  statusSummary(): Record<string, number> {
    const summary: Record<string, number> = {};
    STATUSES.forEach((name, code) => {
      summary[name] = this.counts[code]!;
    });
    return summary;
  }

  toJSON() {
    const b64 = (array: ArrayBufferView) =>
      Buffer.from(array.buffer, array.byteOffset, array.byteLength).toString("base64");
    return {
      size: this.size,
      status: b64(this.status),
      startedAt: b64(this.startedAt),
      stoppedAt: b64(this.stoppedAt),
      extras: [...this.extras.entries()],
      summaryUpdatedAt: this.summaryUpdatedAt,
    };
  }

  static fromJSON(saved: ReturnType<ChildTable["toJSON"]>): ChildTable {
    const table = new ChildTable(saved.size, saved.summaryUpdatedAt);
    const bytes = (text: string) => Buffer.from(text, "base64");
    table.status.set(bytes(saved.status));
    const copy = (target: Float64Array, text: string) => {
      const source = bytes(text);
      new Uint8Array(target.buffer).set(source.subarray(0, target.byteLength));
    };
    copy(table.startedAt, saved.startedAt);
    copy(table.stoppedAt, saved.stoppedAt);
    table.counts.fill(0);
    for (const code of table.status) table.counts[code]!++;
    for (const [index, state] of saved.extras) table.extras.set(index, state);
    table.summaryUpdatedAt = saved.summaryUpdatedAt;
    return table;
  }
}
