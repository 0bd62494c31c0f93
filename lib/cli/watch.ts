import cliProgress from "cli-progress";
import { isBatchName } from "../domain/names.js";
import type { ApiClient } from "./client.js";
import { countsText, seconds } from "./render.js";

const ENDED = ["Succeeded", "Failed", "Stopped", "DeadlineExceeded"];

/** Where a job or batch stands, as a watcher sees it. */
export interface Progress {
  name: string;
  status: string;
  counts: Record<string, number>;
  total: number;
  ended: number;
  /** Every job has ended. */
  done: boolean;
  /** Every job Succeeded. */
  succeeded: boolean;
  raw: unknown;
}

/** A batch's counts (one small page of its jobs: constant cost for any size), or a job as a batch of one. */
export async function progressOf(client: ApiClient, name: string): Promise<Progress> {
  let status: string;
  let counts: Record<string, number>;
  let total: number;
  let raw: unknown;
  if (isBatchName(name)) {
    const batch = await client.batch(name, { limit: 1 });
    status = batch.value.status;
    counts = batch.value.jobCounts ?? {};
    total = batch.value.totalJobs ?? Object.values(counts).reduce((a, b) => a + b, 0);
    raw = batch.raw;
  } else {
    const job = await client.job(name);
    status = job.value.status;
    counts = { [status]: 1 };
    total = 1;
    raw = job.raw;
  }
  const ended = ENDED.reduce((sum, s) => sum + (counts[s] ?? 0), 0);
  const done = ended >= total && status !== "Stopping";
  return {
    name,
    status,
    counts,
    total,
    ended,
    done,
    succeeded: done && (counts.Succeeded ?? 0) === total,
    raw,
  };
}

/** Jobs ended per second over the last `windowMs`, and the time left at that rate. */
export class RateMeter {
  private readonly samples: { at: number; ended: number }[] = [];
  constructor(private readonly windowMs = 30_000) {}

  add(at: number, ended: number) {
    this.samples.push({ at, ended });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
  }

  /** Jobs per second, undefined until two samples apart in time. */
  rate(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.at <= first.at) return undefined;
    return (last.ended - first.ended) / ((last.at - first.at) / 1000);
  }

  /** Seconds until `total`, undefined while nothing ends. */
  eta(total: number): number | undefined {
    const rate = this.rate();
    const last = this.samples.at(-1);
    if (!rate || rate <= 0 || !last) return undefined;
    return (total - last.ended) / rate;
  }
}

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface WatchOptions {
  intervalMs: number;
  /** Give up after this long (undefined: never). */
  timeoutMs?: number;
  /** Where the progress goes: a live bar on a terminal, a line per change elsewhere. */
  out: Output;
  quiet?: boolean;
}

/** Polls until every job has ended (or the timeout), showing counts by status, rate and ETA. */
export async function watch(client: ApiClient, name: string, options: WatchOptions): Promise<Progress> {
  const started = Date.now();
  const meter = new RateMeter();
  let progress = await progressOf(client, name);
  const tokens = () => {
    const rate = meter.rate();
    const eta = meter.eta(progress.total);
    return {
      status: progress.status,
      counts: countsText(progress.counts),
      rate: rate === undefined ? "–" : rate.toFixed(rate < 10 ? 2 : 0),
      // Not `eta`: cli-progress fills that token with its own estimate.
      timeLeft: progress.done ? "0s" : eta === undefined ? "–" : seconds(eta),
    };
  };
  meter.add(Date.now(), progress.ended);
  const bar =
    options.quiet || !options.out.isTTY
      ? undefined
      : new cliProgress.SingleBar(
          {
            stream: options.out as NodeJS.WritableStream,
            format: "{status} [{bar}] {value}/{total} | {counts} | {rate} jobs/s | ETA {timeLeft}",
            barsize: 24,
            hideCursor: true,
            clearOnComplete: false,
            linewrap: false,
          },
          cliProgress.Presets.shades_classic,
        );
  let lastLine = "";
  const show = () => {
    const t = tokens();
    if (bar) {
      bar.setTotal(progress.total);
      bar.update(progress.ended, t);
      return;
    }
    // Off a terminal, one line per change of the counts (not of the rate), so logs stay short.
    const key = `${progress.status} ${t.counts}`;
    if (options.quiet || key === lastLine) return;
    lastLine = key;
    options.out.write(
      `${progress.status}: ${progress.ended}/${progress.total} ended (${t.counts}), ${t.rate} jobs/s, ETA ${t.timeLeft}\n`,
    );
  };
  bar?.start(progress.total, progress.ended, tokens());
  show();
  try {
    while (!progress.done) {
      if (options.timeoutMs !== undefined && Date.now() - started > options.timeoutMs) break;
      await new Promise((resolve) => setTimeout(resolve, options.intervalMs));
      progress = await progressOf(client, name);
      meter.add(Date.now(), progress.ended);
      show();
    }
  } finally {
    bar?.stop();
  }
  return progress;
}
