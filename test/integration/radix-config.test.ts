import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { JobStatus } from "#lib/api/schemas.js";
import { parseConfig } from "#lib/config/load.js";
import { eventually, FINAL, finalJob, startTestStack, type TestStack } from "./harness.js";

/**
 * A Radix user's radixconfig on the local stack: `secrets` with their values from the secrets file,
 * `environmentConfig` of the deployment's environment, and `schedules` run by the local scheduler, whose
 * clock the test moves a minute at a time.
 */
const SECRET = "s3cr3t-Value-9f2c41d0";
const MINUTE = 60_000;

function radixConfig() {
  const raw = parse(readFileSync("radixconfig.yaml", "utf8"));
  const [compute] = raw.spec.jobs;
  Object.assign(compute, {
    secrets: ["DB_PASSWORD"],
    variables: { GREETING: "common", COMMON: "from the component" },
    environmentConfig: [
      { environment: "dev", variables: { GREETING: "hello from dev" }, timeLimitSeconds: 600 },
      { environment: "prod", variables: { GREETING: "hello from prod" } },
    ],
    schedules: [
      {
        name: "every-minute",
        cron: "* * * * *",
        timeZone: "Europe/Oslo",
        concurrencyPolicy: "Forbid",
        payload: '{"sleepSeconds": 2}',
      },
      {
        name: "replacing",
        cron: "* * * * *",
        concurrencyPolicy: "Replace",
        payload: '{"sleepSeconds": 60}',
        job: { variables: { FROM_SCHEDULE: "yes" } },
      },
    ],
  });
  return parseConfig(raw, "test config", { environment: "dev" });
}

/** Every file under `dir`, as text. */
function filesUnder(dir: string): { path: string; text: string }[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, text: readFileSync(path, "latin1") }];
  });
}

let stack: TestStack;
let clock = Date.parse("2026-03-01T10:00:30Z");
const logged: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);

beforeAll(async () => {
  // Everything the product logs, at every level, to search for the secret's value.
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => {
    logged.push(String(chunk));
    return realWrite(chunk, ...rest);
  }) as typeof process.stdout.write;
  stack = await startTestStack({
    config: radixConfig(),
    secrets: { compute: { DB_PASSWORD: SECRET } },
    schedules: { now: () => clock, tickMs: 0 },
    reconcileEveryMs: 0,
    logger: new Logger({ serviceName: "radix-config-test", logLevel: "DEBUG" }),
  });
});
afterAll(async () => {
  await stack?.stop();
  process.stdout.write = realWrite;
});

type Tick = { outcome: string; jobName?: string; stopped?: string };
const tick = async () => (await stack.scheduler.tick()) as Tick[];

describe("a radixconfig with secrets and environmentConfig", () => {
  it("the job sees its secret and the dev environment's variables; the value is never logged nor in events", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", {
      payload: JSON.stringify({ printEnv: ["GREETING", "COMMON"], digestEnv: ["DB_PASSWORD"] }),
    });
    expect(created.status).toBe(200);
    const job = await finalJob(stack, created.body.name);
    expect(job.status).toBe("Succeeded");
    const logs = await stack.api<string>("GET", `/api/v1/jobs/${job.name}/logs`);
    const digest = createHash("sha256").update(SECRET).digest("hex");
    expect(logs.body).toContain(`secret DB_PASSWORD length=${SECRET.length} sha256=${digest}`);
    expect(logs.body).toContain("env GREETING=hello from dev");
    expect(logs.body).toContain("env COMMON=from the component");

    const described = await stack.api("GET", `/api/v1/jobs/${job.name}`);
    const everywhere = [
      logs.body,
      JSON.stringify(described.body),
      ...logged,
      ...filesUnder(stack.dataDir).map((file) => file.text),
    ];
    expect(logged.some((line) => line.includes('"batch recorded"'))).toBe(true); // the capture works
    expect(everywhere.filter((text) => text.includes(SECRET))).toEqual([]);
    // The events carry where the secret comes from, never its value.
    const events = readFileSync(join(stack.dataDir, "batch", "events.ndjson"), "utf8");
    expect(events).toContain(":DB_PASSWORD::");
  });
});

describe("schedules on the local stack", () => {
  it("a schedule firing every minute creates jobs; Forbid skips while the previous runs, Replace stops it", async () => {
    expect(await tick()).toEqual([]);
    clock += 30_000; // 10:01:00
    const first = await tick();
    expect(first.map((run) => run.outcome)).toEqual(["created", "created"]);
    const [forbidA, replaceA] = first as [Tick, Tick];

    clock += MINUTE; // 10:02:00, both previous jobs still running (or waiting)
    const second = await tick();
    expect(second[0]).toEqual({ outcome: "skipped", jobName: forbidA.jobName });
    expect(second[1]).toMatchObject({ outcome: "created", stopped: replaceA.jobName });
    expect((await finalJob(stack, replaceA.jobName!)).status).toBe("Stopped");

    // Once the Forbid schedule's job has ended, the next minute runs again.
    expect((await finalJob(stack, forbidA.jobName!)).status).toBe("Succeeded");
    clock += MINUTE; // 10:03:00
    const third = await tick();
    expect(third[0]?.outcome).toBe("created");
    expect(third[0]?.jobName).not.toBe(forbidA.jobName);

    // The jobs carry the schedule's name as jobId and its job fields.
    const listed = await stack.api<JobStatus[]>("GET", "/api/v1/jobs");
    const byJobId = (id: string) =>
      listed.body.filter((entry) => entry.jobId === id).map((entry) => entry.name);
    expect(byJobId("every-minute").sort()).toEqual([forbidA.jobName, third[0]!.jobName].sort());
    expect(byJobId("replacing")).toHaveLength(3);
  });

  it("a repeated firing of one scheduled time creates no second job", async () => {
    const { runScheduledJob } = await import("#lib/service/scheduled-job.js");
    const { DynamoScheduleState } = await import("#lib/schedules/dynamo-schedule-state.js");
    const state = new DynamoScheduleState(stack.clients.dynamo, stack.runtime.tableName);
    const run = {
      component: "compute",
      schedule: "manual",
      scheduledTime: "2026-03-01T11:00:00Z",
      concurrencyPolicy: "Allow" as const,
      payload: "{}",
    };
    const once = await runScheduledJob(stack.deps, state, run);
    const again = await runScheduledJob(stack.deps, state, run);
    expect(once.outcome).toBe("created");
    expect(again).toEqual({ outcome: "repeated", jobName: once.jobName });
    await eventually(async () => {
      const { body } = await stack.api<JobStatus>("GET", `/api/v1/jobs/${once.jobName}`);
      return FINAL.includes(body.status);
    });
  });
});
