import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BatchClient,
  type BatchClientConfig,
  RegisterJobDefinitionCommand,
  type RegisterJobDefinitionCommandInput,
} from "@aws-sdk/client-batch";
import { type BatchEmulatorOptions, startBatchEmulator } from "@local/batch-emulator";
import { afterEach } from "vitest";

/**
 * Set-up shared by the package's tests: an emulator on a fresh data directory with a Batch client
 * pointed at it, both closed (and the directory removed) after each test of the importing file.
 */
export const QUEUE = "local-queue";
export const REGION = "eu-west-1";

const cleanups: (() => Promise<void>)[] = [];
const tempDirs = new Set<string>();
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
});

/** A fresh directory, removed after the test. */
export const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "batch-emulator-"));
  tempDirs.add(dir);
  return dir;
};

/**
 * Starts an emulator on `options.dataDir` (a fresh directory unless given) with one queue, 5 ms walk
 * steps and a 300 ms kill grace, events dropped unless `options.onEvent` keeps them; `client` adds
 * to the Batch client's configuration. `stop` closes both and may be called more than once.
 */
export async function startEmulator(
  options: Partial<BatchEmulatorOptions> = {},
  client: Partial<BatchClientConfig> = {},
) {
  const dataDir = options.dataDir ?? tempDir();
  const emulator = await startBatchEmulator({
    dataDir,
    queues: [QUEUE],
    stepDelayMs: 5,
    killGraceMs: 300,
    onEvent: async () => undefined,
    ...options,
  });
  const batch = new BatchClient({
    endpoint: emulator.url,
    region: REGION,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    ...client,
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    batch.destroy();
    await emulator.close();
  };
  cleanups.push(stop);
  return { dataDir, emulator, client: batch, stop };
}

/** A container's command that runs `program` with node. */
export const node = (program: string) => ["node", "-e", program];

/** Registers a container job definition `name` that runs `command` (the image is not used). */
export const register = (
  client: BatchClient,
  name: string,
  command: string[],
  extra: Partial<RegisterJobDefinitionCommandInput> = {},
) =>
  client.send(
    new RegisterJobDefinitionCommand({
      jobDefinitionName: name,
      type: "container",
      containerProperties: { image: "ignored:latest", command },
      ...extra,
    }),
  );

/**
 * Polls `probe` every `pollMs` until it gives a value (not undefined or false) and returns it; fails
 * naming `what` after `timeoutMs`.
 */
export async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  { timeoutMs = 15_000, pollMs = 20 }: { timeoutMs?: number; pollMs?: number } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
