import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { enforceExpressionLimits } from "#lib/local/dynamo-limits.js";
import { ensureTable, startDynamo } from "#lib/local/storage-emulators.js";
import { DynamoJobStore } from "#lib/store/dynamo-job-store.js";

/** A DynamoDB endpoint a contract suite runs against, and what it cannot do. */
export interface DynamoEndpoint {
  name: string;
  /**
   * Concurrent UpdateItems of one item are applied atomically. moto 5 applies them as a read and a write
   * of the whole item, so two updates of different attributes of one item can lose one (its counters
   * drift; conditions still hold).
   */
  atomicItemUpdates: boolean;
  start(): Promise<{ client: DynamoDBClient; close(): Promise<void> }>;
}

/** A client of the endpoint that refuses, as AWS does, what is past DynamoDB's expression limits. */
function clientFor(endpoint: string) {
  const client = new DynamoDBClient({
    endpoint,
    region: "eu-west-1",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
  });
  enforceExpressionLimits(client);
  return client;
}

const dynalite: DynamoEndpoint = {
  name: "dynalite",
  atomicItemUpdates: true,
  async start() {
    const dir = mkdtempSync(join(tmpdir(), "dynalite-"));
    const running = await startDynamo(dir);
    return {
      client: clientFor(running.url),
      close: async () => {
        await running.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitUntilServing(url: string, child: ChildProcess) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with ${child.exitCode}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error("moto_server did not start within 30 s");
}

/** moto's server (a second, independent DynamoDB implementation), when `moto_server` is on the PATH. */
const moto: DynamoEndpoint = {
  name: "moto",
  atomicItemUpdates: false,
  async start() {
    const port = await freePort();
    const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    const url = `http://127.0.0.1:${port}`;
    await waitUntilServing(url, child);
    return {
      client: clientFor(url),
      close: async () => {
        child.kill();
      },
    };
  },
};

const motoInstalled = () => spawnSync("sh", ["-c", "command -v moto_server"]).status === 0;

/** dynalite always; moto_server too when it is installed (said in the test output when it is not). */
export function dynamoEndpoints(): DynamoEndpoint[] {
  if (motoInstalled()) return [dynalite, moto];
  console.log("moto_server is not on the PATH: the DynamoDB store's suite runs against dynalite only");
  return [dynalite];
}

/**
 * The job store on a fresh table of the endpoint (its document client too, for tests that look at raw
 * items): what the store's tests start with.
 */
export async function startJobStore(endpoint: DynamoEndpoint) {
  const started = await endpoint.start();
  await ensureTable(started.client, "jobs");
  const documents = DynamoDBDocumentClient.from(started.client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  return { store: new DynamoJobStore(documents, "jobs"), documents, close: started.close };
}
