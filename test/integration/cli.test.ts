import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LogChunk } from "#lib/api/log-chunk.js";
import type { JobStatus } from "#lib/api/schemas.js";
import { ApiClient } from "#lib/cli/client.js";
import { EXIT, run } from "#lib/cli/main.js";
import { startConsoleProxy } from "#lib/cli/proxy.js";
import { sigV4Signer } from "#lib/cli/sign.js";
import { finalJob, startTestStack, type TestStack } from "./harness.js";
import { startSigV4Verifier } from "./sigv4-verifier.js";

let stack: TestStack;
const files = mkdtempSync(join(tmpdir(), "job-scheduler-cli-"));

beforeAll(async () => {
  stack = await startTestStack({ reconcileEveryMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

class Capture {
  text = "";
  constructor(
    readonly isTTY = false,
    readonly columns = 160,
  ) {}
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
}

/** Runs the CLI in this process (fast), against the test stack unless --url is given. */
async function cli(args: string[], options: { tty?: boolean } = {}) {
  const stdout = new Capture();
  const stderr = new Capture(options.tty ?? false);
  const code = await run(["--url", stack.url, ...args], {
    stdout,
    stderr,
    env: {},
    stdin: () => "",
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** Runs the package's bin (`npx job-scheduler`) as its own process. */
function bin(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ["lib/cli/bin.mjs", ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: files, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("job-scheduler CLI against the local stack", () => {
  it("submit --wait of a succeeding batch exits 0 (the package's bin, as a pipeline runs it)", async () => {
    const file = join(files, "ok.jsonl");
    writeFileSync(
      file,
      '{"payload": "{\\"sleepSeconds\\": 0.3}", "jobId": "a"}\n{"payload": "b", "jobId": "b"}\n',
    );
    const result = await bin(["submit", file, "--batch-id", "cli-ok", "--wait", "--interval", "200"], {
      JOB_SCHEDULER_URL: stack.url,
    });
    expect(result.stderr).toMatch(/submitted batch batch-compute-/);
    expect(result.stdout).toMatch(/Succeeded: 2\/2 ended \(Succeeded 2\)/);
    expect(result.code).toBe(EXIT.ok);
  });

  it("submit --wait of a batch with a failing job exits non-zero", async () => {
    const file = join(files, "failing.yaml");
    writeFileSync(file, 'jobScheduleDescriptions:\n  - payload: "ok"\n  - payload: \'{"exitCode": 3}\'\n');
    const result = await cli(["submit", file, "--wait", "--interval", "200"]);
    expect(result.stdout).toMatch(/Failed: 2\/2 ended \(Succeeded 1, Failed 1\)/);
    expect(result.code).toBe(EXIT.unsuccessful);
  });

  it("a request the API refuses is reported with its message and exit code 2", async () => {
    const result = await cli(["submit", "--node-free-flag"]);
    expect(result.code).toBe(EXIT.error);
    const refused = await cli(["submit", "--gpu", "nvidia-h100"]);
    expect(refused.stderr).toMatch(/400: node.gpu 'nvidia-h100' matches no configured GPU type/);
    expect(refused.code).toBe(EXIT.error);
  });

  it("logs prints the sample job's output; --follow prints every line of a running job until it ends", async () => {
    const created = await cli(["submit", "--payload", "hello", "--json"]);
    const name = (JSON.parse(created.stdout) as JobStatus).name;
    await finalJob(stack, name);
    const logs = await cli(["logs", name]);
    // The sample job prints its payload's size and SHA-256 (sha256("hello")).
    expect(logs.stdout).toContain(
      "payload bytes=5 sha256=2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    );
    expect(logs.code).toBe(EXIT.ok);

    const running = await stack.api<JobStatus>("POST", "/api/v1/jobs", {
      payload: '{"lines": 40, "sleepSeconds": 1}',
    });
    const followed = await cli(["logs", "--follow", "--interval", "100", running.body.name]);
    const lines = followed.stdout.split("\n").filter((line) => line.startsWith("line "));
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i + 1}`));
    expect((await stack.api<JobStatus>("GET", `/api/v1/jobs/${running.body.name}`)).body.status).toBe(
      "Succeeded",
    );
  });

  it("the follow route moves from a failed attempt to its retry, each line once", async () => {
    const marker = join(files, "fail-once");
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", {
      payload: JSON.stringify({ failOnce: marker, lines: 2 }),
      backoffLimit: 1,
    });
    const name = created.body.name;
    const seen: { attempt: number | null; line: string }[] = [];
    let chunk = (await stack.api<LogChunk>("GET", `/api/v1/jobs/${name}/logs/follow`)).body;
    for (let polls = 0; !chunk.final && polls < 300; polls++) {
      seen.push(...chunk.lines.map((line) => ({ attempt: chunk.attempt, line })));
      await new Promise((resolve) => setTimeout(resolve, 50));
      chunk = (await stack.api<LogChunk>("GET", `/api/v1/jobs/${name}/logs/follow?cursor=${chunk.cursor}`))
        .body;
    }
    expect(chunk.final).toBe(true);
    const numbered = seen.filter(({ line }) => line.startsWith("line "));
    expect(numbered).toEqual([
      { attempt: 0, line: "line 1" },
      { attempt: 0, line: "line 2" },
      { attempt: 1, line: "line 1" },
      { attempt: 1, line: "line 2" },
    ]);
    expect(seen.filter(({ line }) => line === "failing on purpose (first run)")).toHaveLength(1);
    expect((await stack.api("GET", `/api/v1/jobs/${name}/logs/follow?cursor=nope`)).status).toBe(422);
  });

  it("watch renders a live bar with counts by status, rate and ETA on a terminal, and exits 0", async () => {
    const batch = await stack.api<{ name: string }>("POST", "/api/v1/batches", {
      jobScheduleDescriptions: [1, 2, 3].map((n) => ({ payload: `{"sleepSeconds": ${n * 0.3}}` })),
    });
    const watched = await cli(["watch", batch.body.name, "--interval", "150"], { tty: true });
    const screen = stripVTControlCharacters(watched.stderr);
    expect(screen).toMatch(/\[[█░]+\] \d\/3 \| .*(Running|Waiting) \d.* jobs\/s \| ETA /);
    expect(screen).toMatch(/Succeeded \[█+\] 3\/3 \| Succeeded 3 \| [\d.]+ jobs\/s \| ETA 0s/);
    expect(watched.stdout).toContain(`${batch.body.name} Succeeded: 3/3 ended (Succeeded 3)`);
    expect(watched.code).toBe(EXIT.ok);
  });

  it("status, list with filters, stop and restart", async () => {
    const sleeper = await cli([
      "submit",
      "--payload",
      '{"sleepSeconds": 60}',
      "--job-id",
      "cli-sleeper",
      "--json",
    ]);
    const name = (JSON.parse(sleeper.stdout) as JobStatus).name;
    const listed = await cli(["list", "jobs", "--job-id", "cli-sleeper", "--since", "1h"]);
    expect(listed.stdout).toContain(name);
    const stopped = await cli(["stop", name]);
    expect(stopped.stdout).toContain(`job ${name} successfully stopped`);
    const ended = await finalJob(stack, name);
    expect(ended.status).toBe("Stopped");
    const status = await cli(["status", name]);
    expect(status.stdout).toMatch(/Status:\s+Stopped/);
    const restarted = await cli(["restart", name]);
    expect(restarted.stdout).toContain(`restarted ${name}`);
    await cli(["stop", name]);
    const none = await cli(["list", "batches", "--batch-id", "no-such-label", "--json"]);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it("--iam signs every request with SigV4 for execute-api, from the standard credential chain", async () => {
    const job = { name: "batch-compute-20260301101417-abcdefgh-ijklmnop", status: "Waiting", created: null };
    const verifier = await startSigV4Verifier(
      { AKIDEXAMPLE: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
      () => ({
        ...job,
        started: null,
        ended: null,
        updated: null,
        failed: 0,
        podStatuses: [],
      }),
    );
    try {
      const result = await bin(
        [
          "submit",
          "--payload",
          "signed body",
          "--iam",
          "--region",
          "eu-west-1",
          "--json",
          "--url",
          `${verifier.url}/prod`,
        ],
        {
          // The environment is the first source of the chain; no profile files are read.
          AWS_ACCESS_KEY_ID: "AKIDEXAMPLE",
          AWS_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
          AWS_SESSION_TOKEN: "a-session-token",
          AWS_CONFIG_FILE: join(files, "none"),
          AWS_SHARED_CREDENTIALS_FILE: join(files, "none"),
        },
      );
      expect(verifier.verdicts).toEqual([
        expect.objectContaining({
          method: "POST",
          path: "/prod/api/v1/jobs",
          valid: true,
          service: "execute-api",
          region: "eu-west-1",
          signedHeaders: expect.arrayContaining(["host", "x-amz-date", "x-amz-security-token"]),
        }),
      ]);
      expect(JSON.parse(result.stdout).name).toBe(job.name);
      expect(result.code).toBe(EXIT.ok);
    } finally {
      await verifier.close();
    }
  });

  it("`console` serves the console through a local proxy that signs each request the browser makes", async () => {
    const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const verifier = await startSigV4Verifier({ AKIDEXAMPLE: secret }, () => []);
    const signer = sigV4Signer({
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: secret },
    });
    const proxy = await startConsoleProxy(new ApiClient({ url: `${verifier.url}/prod`, signer }), 0);
    try {
      const origin = new URL(proxy.url).origin;
      const home = await fetch(`${origin}/`, { redirect: "manual" });
      expect(home.headers.get("location")).toBe("/api/v1/console");
      const listed = await fetch(`${origin}/api/v1/batches?limit=25&status=Running`);
      expect(listed.status).toBe(200);
      await expect(listed.json()).resolves.toEqual([]);
      const stop = await fetch(`${origin}/api/v1/jobs/some-job/stop`, { method: "POST" });
      expect(stop.status).toBe(200);
      expect(verifier.verdicts.map(({ method, path, valid }) => ({ method, path, valid }))).toEqual([
        { method: "GET", path: "/prod/api/v1/batches?limit=25&status=Running", valid: true },
        { method: "POST", path: "/prod/api/v1/jobs/some-job/stop", valid: true },
      ]);
    } finally {
      await new Promise((resolve) => proxy.server.close(resolve));
      await verifier.close();
    }
  });
});
