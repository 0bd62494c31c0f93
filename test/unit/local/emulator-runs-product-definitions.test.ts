import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BatchClient,
  DescribeJobsCommand,
  RegisterJobDefinitionCommand,
  type RegisterJobDefinitionCommandInput,
  SubmitJobCommand,
  type SubmitJobCommandInput,
} from "@aws-sdk/client-batch";
import { type BatchStateChangeEvent, logFileForStream, startBatchEmulator } from "@local/batch-emulator";
import { afterEach, describe, expect, it } from "vitest";
import { buildJobDefinition, FETCH_CONTAINER, MAIN_CONTAINER } from "../../../lib/batch/job-definition.js";

/**
 * The product's job definitions (lib/batch/job-definition.ts) on the local Batch emulator: the
 * fetch-payload + main containers, and radixconfig's secrets and EFS volume mounts
 * (lib/batch/component-definition.ts). The emulator's own behaviour is tested in packages/batch-emulator.
 */
const QUEUE = "local-queue";
const SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:000000000000:secret:app/compute";
const VALUE = "not-for-logs-7d1e";
const dirs: string[] = [];
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function start() {
  const dataDir = mkdtempSync(join(tmpdir(), "batch-emulator-"));
  dirs.push(dataDir);
  const events: BatchStateChangeEvent[] = [];
  const emulator = await startBatchEmulator({
    dataDir,
    queues: [QUEUE],
    stepDelayMs: 5,
    killGraceMs: 300,
    onEvent: async (event) => {
      events.push(event);
    },
    resolveSecret: (valueFrom) => (valueFrom === `${SECRET_ARN}:DB_PASSWORD::` ? VALUE : undefined),
  });
  const client = new BatchClient({
    endpoint: emulator.url,
    region: "eu-west-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  stops.push(async () => {
    client.destroy();
    await emulator.close();
  });
  return { dataDir, emulator, client, events };
}

const node = (program: string) => ["node", "-e", program];

const submit = (client: BatchClient, input: Partial<SubmitJobCommandInput> & { jobDefinition: string }) =>
  client.send(new SubmitJobCommand({ jobName: "job", jobQueue: QUEUE, ...input }));

const logOf = (dataDir: string, stream: string | undefined) => {
  const file = logFileForStream(dataDir, stream ?? "");
  return existsSync(file) ? readFileSync(file, "utf8") : undefined;
};

const definition = (name: string, program: string, secrets: string[]) =>
  buildJobDefinition({
    name,
    image: "ignored",
    mainCommand: ["node", "-e", program],
    fetchImage: "ignored",
    vcpus: 1,
    memoryMiB: 128,
    secrets: secrets.map((key) => ({ name: key, valueFrom: `${SECRET_ARN}:${key}::` })),
    volumes: [
      {
        name: "vol-models",
        containerPath: "/models",
        readOnly: false,
        efs: { fileSystemId: "fs-0123456789abcdef0", accessPointId: "fsap-0123456789abcdef0" },
      },
    ],
  });

async function finished(client: BatchClient, jobId: string) {
  for (let i = 0; i < 500; i++) {
    const job = (await client.send(new DescribeJobsCommand({ jobs: [jobId] }))).jobs?.[0];
    if (job?.status === "SUCCEEDED" || job?.status === "FAILED") return job;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${jobId} did not finish`);
}

const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });

describe("the product's job definitions on the local Batch emulator", () => {
  it("a container secret is in the process environment only; an EFS folder outlives the job and is shared", async () => {
    const { client, dataDir, events } = await start();
    const writer = `require("fs").writeFileSync(process.env.BATCH_LOCAL_ROOT + "/models/seen.txt", String(process.env.DB_PASSWORD.length))`;
    const reader = `console.log("read " + require("fs").readFileSync(process.env.BATCH_LOCAL_ROOT + "/models/seen.txt", "utf8"))`;
    await client.send(
      new RegisterJobDefinitionCommand(definition("writer", writer, ["DB_PASSWORD"]) as never),
    );
    await client.send(new RegisterJobDefinitionCommand(definition("reader", reader, []) as never));
    const { jobId } = await client.send(
      new SubmitJobCommand({ jobName: "w", jobQueue: QUEUE, jobDefinition: "writer" }),
    );
    expect((await finished(client, jobId!)).status).toBe("SUCCEEDED");
    const efsFile = join(
      dataDir,
      "efs",
      "fs-0123456789abcdef0",
      "access-points",
      "fsap-0123456789abcdef0",
      "seen.txt",
    );
    expect(readFileSync(efsFile, "utf8")).toBe(String(VALUE.length));
    const second = await client.send(
      new SubmitJobCommand({ jobName: "r", jobQueue: QUEUE, jobDefinition: "reader" }),
    );
    const read = await finished(client, second.jobId!);
    expect(read.status).toBe("SUCCEEDED");

    const described = await client.send(new DescribeJobsCommand({ jobs: [jobId!] }));
    const main = described.jobs?.[0]?.ecsProperties?.taskProperties?.[0]?.containers?.find(
      (c) => c.name === "main",
    );
    expect(main?.secrets).toEqual([{ name: "DB_PASSWORD", valueFrom: `${SECRET_ARN}:DB_PASSWORD::` }]);
    const texts = [
      JSON.stringify(described),
      JSON.stringify(events),
      ...files(dataDir).map((f) => readFileSync(f, "latin1")),
    ];
    expect(texts.filter((text) => text.includes(VALUE))).toEqual([]);
  });

  it("a secret that cannot be fetched fails the task before any container starts, naming its ARN", async () => {
    const { client, emulator } = await start();
    await client.send(new RegisterJobDefinitionCommand(definition("nosecret", "1", ["API_TOKEN"]) as never));
    const { jobId } = await client.send(
      new SubmitJobCommand({ jobName: "n", jobQueue: QUEUE, jobDefinition: "nosecret" }),
    );
    const job = await finished(client, jobId!);
    expect(job.status).toBe("FAILED");
    expect(job.statusReason).toMatch(/^ResourceInitializationError: unable to pull secrets/);
    expect(job.statusReason).toContain(`${SECRET_ARN}:API_TOKEN::`);
    expect(emulator.processCounts()[jobId!]).toBeUndefined();
  });

  it("refuses what AWS Batch refuses: an access point with another root directory", async () => {
    const { client } = await start();
    const input = definition("bad", "1", []);
    const task = input.ecsProperties.taskProperties[0]!;
    const volume = task.volumes[0] as { efsVolumeConfiguration: Record<string, unknown> };
    volume.efsVolumeConfiguration.rootDirectory = "/data";
    await expect(client.send(new RegisterJobDefinitionCommand(input as never))).rejects.toThrow(
      /rootDirectory must be omitted or \//,
    );
  });

  it("runs the project's multi-container definition: the main container reads what fetch-payload wrote", async () => {
    const { client, dataDir } = await start();
    const definition = buildJobDefinition({
      name: "compute",
      image: "repo/compute:1.0.0",
      mainCommand: node(
        `const p = process.env.BATCH_LOCAL_ROOT + process.env.PAYLOAD_PATH + "/payload";
         console.log("main read: " + require("fs").readFileSync(p, "utf8"));`,
      ),
      payloadPath: "/compute/args",
      fetchImage: "node:22-alpine",
      vcpus: 1,
      memoryMiB: 512,
    });
    await client.send(new RegisterJobDefinitionCommand(definition as RegisterJobDefinitionCommandInput));
    const fetch = (program: string) => ({ name: FETCH_CONTAINER, command: node(program) });
    const write = `require("fs").writeFileSync(process.env.BATCH_LOCAL_ROOT + process.env.PAYLOAD_DIR + "/payload",
      "payload of " + process.env.PAYLOAD_KEY); console.log("fetched");`;
    const ok = await submit(client, {
      jobDefinition: "compute",
      ecsPropertiesOverride: {
        taskProperties: [
          {
            containers: [
              { ...fetch(write), environment: [{ name: "PAYLOAD_KEY", value: "k1" }] },
              { name: MAIN_CONTAINER, resourceRequirements: [{ type: "VCPU", value: "2" }] },
            ],
          },
        ],
      },
    });
    const failing = await submit(client, {
      jobDefinition: "compute",
      ecsPropertiesOverride: { taskProperties: [{ containers: [fetch("process.exit(1)")] }] },
    });
    const job = await finished(client, ok.jobId!);
    expect(job.status).toBe("SUCCEEDED");
    const containers = job.attempts?.[0]?.taskProperties?.[0]?.containers ?? [];
    expect(containers.map((c) => [c.name, c.exitCode])).toEqual([
      [FETCH_CONTAINER, 0],
      [MAIN_CONTAINER, 0],
    ]);
    expect(logOf(dataDir, job.attempts?.[0]?.container?.logStreamName)).toBe("main read: payload of k1\n");
    expect(logOf(dataDir, containers[0]?.logStreamName)).toBe("fetched\n");
    expect(containers[0]?.logStreamName).toMatch(/^compute\/fetch-payload\//);
    const main = job.ecsProperties?.taskProperties?.[0]?.containers?.find((c) => c.name === MAIN_CONTAINER);
    expect(main?.resourceRequirements).toContainEqual({ type: "VCPU", value: "2" });

    const failed = await finished(client, failing.jobId!);
    expect(failed.status).toBe("FAILED");
    expect(failed.statusReason).toBe("Dependent container exited with non-zero exit code");
    expect(failed.attempts?.[0]?.container?.exitCode).toBeUndefined();
    expect(logOf(dataDir, failed.attempts?.[0]?.container?.logStreamName)).toBeUndefined(); // main never started
  });
});
