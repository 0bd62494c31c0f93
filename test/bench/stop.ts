import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Logger } from "@aws-lambda-powertools/logger";
import { loadConfigFile } from "#lib/config/load.js";
import { startLocalStack } from "#lib/local/stack.js";

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
  const dataDir = mkdtempSync(join(tmpdir(), "job-scheduler-stop-"));
  const stack = await startLocalStack({
    config: loadConfigFile("radixconfig.yaml"),
    dataDir,
    ephemeralPorts: true,
    reconcileEveryMs: 0,
    logger: new Logger({ serviceName: "bench", logLevel: "ERROR" }),
    // Slow steps, so the batch is still running when it is stopped.
    batch: { mode: "status-only", stepDelayMs: 2_000 },
  });
  const url = Object.values(stack.urls)[0]!;
  const rows: StopRow[] = [];
  try {
    for (const jobs of sizes) {
      const created = await fetch(`${url}/api/v1/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jobScheduleDescriptions: Array.from({ length: jobs }, () => ({})) }),
      });
      const { name } = (await created.json()) as { name: string };
      const asked = performance.now();
      const stopped = await fetch(`${url}/api/v1/batches/${name}/stop`, { method: "POST" });
      const answerMs = performance.now() - asked;
      if (stopped.status !== 200) throw new Error(`bench: stop answered ${stopped.status}`);
      const answered = performance.now();
      let pageMs = 0;
      for (;;) {
        const started = performance.now();
        const page = (await (await fetch(`${url}/api/v1/batches/${name}?limit=1`)).json()) as {
          status: string;
          jobCounts?: Record<string, number>;
        };
        pageMs = performance.now() - started;
        if (page.status === "Stopped" && page.jobCounts?.Stopped === jobs) break;
        if (performance.now() - answered > 1_800_000) throw new Error("bench: stop did not finish");
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      rows.push({ jobs, answerMs, allStoppedMs: performance.now() - answered, pageMs });
      console.error(`bench: stop of ${jobs} jobs done`);
    }
    return rows;
  } finally {
    await stack.close();
    rmSync(dataDir, { recursive: true, force: true });
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
