import { performance } from "node:perf_hooks";
import { createBatch, startBenchStack, untilBatch } from "./bench-stack.js";

export interface StopRow {
  jobs: number;
  /** How long POST /batches/{b}/stop took to answer. */
  answerMs: number;
  /** From the stop's answer until GET shows every job Stopped. */
  allStoppedMs: number;
  /** GET /batches/{b}?limit=1 of the stopped batch. */
  pageMs: number;
}

/**
 * Issue 18's bench: a batch of `jobs` jobs (status-only emulator, every slot busy with it) is stopped
 * right after it was submitted: how long the stop answers, how long until every job is Stopped, and
 * how long a one-job page of the batch takes.
 */
export async function benchStop(sizes: number[]): Promise<StopRow[]> {
  const { url, close } = await startBenchStack("stop", {
    // Slow steps, so the batch is still running when it is stopped.
    batch: { stepDelayMs: 2_000 },
    metered: false,
  });
  const rows: StopRow[] = [];
  try {
    for (const jobs of sizes) {
      const name = await createBatch(url, {
        jobScheduleDescriptions: Array.from({ length: jobs }, () => ({})),
      });
      const asked = performance.now();
      const stopped = await fetch(`${url}/api/v1/batches/${name}/stop`, { method: "POST" });
      const answerMs = performance.now() - asked;
      if (stopped.status !== 200) throw new Error(`bench: stop answered ${stopped.status}`);
      const answered = performance.now();
      const { pageMs } = await untilBatch(
        url,
        name,
        (page) => page.status === "Stopped" && page.jobCounts?.Stopped === jobs,
        { timeoutMs: 1_800_000, pollMs: 1_000 },
      );
      rows.push({ jobs, answerMs, allStoppedMs: performance.now() - answered, pageMs });
      console.error(`bench: stop of ${jobs} jobs done`);
    }
    return rows;
  } finally {
    await close();
  }
}

export function printStop(rows: StopRow[]) {
  console.log("\n## Stopping a running batch (local stack, status-only emulator)\n");
  console.log("| jobs | stop answered | all Stopped after | GET ?limit=1 |");
  console.log("|---:|---:|---:|---:|");
  for (const row of rows)
    console.log(
      `| ${row.jobs} | ${Math.round(row.answerMs)} ms | ${(row.allStoppedMs / 1000).toFixed(1)} s | ${Math.round(row.pageMs)} ms |`,
    );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  printStop(await benchStop(args.length ? args : [10_000, 100_000]));
}
