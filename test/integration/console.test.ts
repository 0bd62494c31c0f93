import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { eventually, finalJob, startTestStack, type TestStack } from "./harness.js";

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it when missing). */
const CHROMIUM = "/usr/bin/chromium";
const SHOTS = "test-output/console";

let stack: TestStack;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it when missing)`);
  }
  mkdirSync(SHOTS, { recursive: true });
  profile = mkdtempSync(join(tmpdir(), "job-scheduler-chromium-"));
  [stack, browser] = await Promise.all([
    startTestStack({ reconcileEveryMs: 0 }),
    chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 720 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    }),
  ]);
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(profile, { recursive: true, force: true });
});

/** Opens a console route in a new tab; page errors fail the test. */
async function open(route: string): Promise<Page> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("close", () => expect(errors, "errors in the page").toEqual([]));
  await page.goto(`${stack.url}/api/v1/console${route}`);
  return page;
}

describe("the web console, in Chromium, against the local stack", () => {
  it("lists batches with filters and shows a running batch's progress bar move to Succeeded", async () => {
    const other = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
      batchId: "console-other",
      jobScheduleDescriptions: [{ payload: "x" }],
    });
    const batch = await stack.api<BatchStatus>("POST", "/api/v1/batches", {
      batchId: "console-progress",
      jobScheduleDescriptions: [0.5, 1, 1.5, 2].map((s) => ({ payload: `{"sleepSeconds": ${s}}` })),
    });
    const page = await open("#/batches");
    const row = page.locator(`tr[data-name="${batch.body.name}"]`);
    await row.waitFor();
    await expect(page.locator(`tr[data-name="${other.body.name}"]`).count()).resolves.toBe(1);
    await page.locator("input[name=batchId]").fill("console-progress");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.locator(`tr[data-name="${other.body.name}"]`).waitFor({ state: "detached" });
    await expect(row.locator("js-progress [role=progressbar]").getAttribute("aria-valuemax")).resolves.toBe(
      "4",
    );
    await page.screenshot({ path: `${SHOTS}/batches.png` });

    await row.locator("a").click();
    const bar = page.locator("js-batch js-progress [role=progressbar]");
    await bar.waitFor();
    const seen = new Set<string>();
    await eventually(
      async () => {
        seen.add((await bar.getAttribute("aria-valuenow")) ?? "");
        return (await page.locator("js-batch #status").textContent()) === "Succeeded";
      },
      20_000,
      "the batch page to show Succeeded",
    );
    await expect(bar.getAttribute("aria-valuenow")).resolves.toBe("4");
    // It moved: seen part-way (fewer than 4 ended) before it reached 4.
    expect([...seen].some((value) => Number(value) < 4)).toBe(true);
    await expect(page.locator("js-batch #counts").textContent()).resolves.toContain("Succeeded 4");
    await expect(page.locator("js-batch #jobs tbody tr").count()).resolves.toBe(4);
    await page.screenshot({ path: `${SHOTS}/batch.png`, fullPage: true });
    await page.close();
  });

  it("opens a failed job's attempts and its logs", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", {
      jobId: "console-failing",
      payload: '{"exitCode": 3, "lines": 3}',
    });
    await finalJob(stack, created.body.name);
    const page = await open("#/jobs");
    await page.locator(`tr[data-name="${created.body.name}"] a`).click();
    await page.locator("js-job #status", { hasText: "Failed" }).waitFor();
    await expect(page.locator("js-job #attempts tbody tr td").nth(4).textContent()).resolves.toBe("3");
    const log = page.locator("js-log #log");
    await page.locator("js-log #log-state", { hasText: "ended" }).waitFor();
    const text = (await log.textContent()) ?? "";
    expect(text).toMatch(/^payload bytes=27 sha256=[0-9a-f]{64}$/m);
    expect(text).toContain("line 1\nline 2\nline 3");
    await page.screenshot({ path: `${SHOTS}/job-failed.png`, fullPage: true });
    await page.close();
  });

  it("stops a running job from its page, through the API's stop route", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", {
      jobId: "console-stop",
      payload: '{"sleepSeconds": 60, "lines": 1}',
    });
    const name = created.body.name;
    await eventually(
      async () => (await stack.api<JobStatus>("GET", `/api/v1/jobs/${name}`)).body.status === "Running",
      20_000,
      "the job to run",
    );
    const page = await open(`#/jobs/${name}`);
    await page.locator("js-job #status", { hasText: "Running" }).waitFor();
    await page.locator("js-log #log", { hasText: "line 1" }).waitFor();
    await page.getByRole("button", { name: "Stop", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: `job ${name} successfully stopped` })
      .waitFor();
    await page.locator("js-job #status", { hasText: "Stopped" }).waitFor({ timeout: 20_000 });
    expect((await finalJob(stack, name)).status).toBe("Stopped");
    await page.locator("js-log #log-state", { hasText: "ended" }).waitFor();
    await page.screenshot({ path: `${SHOTS}/job-stopped.png`, fullPage: true });
    await page.close();
  });
});
