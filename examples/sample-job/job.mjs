#!/usr/bin/env node
// Sample job program: reads its payload file and acts on it.
// - prints the payload's size and SHA-256 digest;
// - a JSON payload with `sleepSeconds` sleeps that long, with `exitCode` exits with that code,
//   with `lines` prints that many numbered lines (for the logs API), with `printEnv` (a list of
//   names) prints those environment variables, with `digestEnv` (a list of names) prints the length and
//   SHA-256 of those variables (how a job shows it sees a secret without printing it), with `failOnce` (a marker file path) fails the first
//   time it runs and succeeds once the marker exists (for restarts).
// In AWS the payload is at $PAYLOAD_PATH/payload; on the local stack container paths live under
// $BATCH_LOCAL_ROOT (set by the local AWS Batch emulator).
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const payloadFile = `${process.env.BATCH_LOCAL_ROOT ?? ""}${process.env.PAYLOAD_PATH ?? "/compute/args"}/payload`;
const payload = existsSync(payloadFile) ? readFileSync(payloadFile) : Buffer.alloc(0);
const digest = createHash("sha256").update(payload).digest("hex");
console.log(`payload bytes=${payload.length} sha256=${digest}`);
console.log(
  `job=${process.env.AWS_BATCH_JOB_ID ?? "?"} attempt=${process.env.AWS_BATCH_JOB_ATTEMPT ?? "?"} index=${process.env.AWS_BATCH_JOB_ARRAY_INDEX ?? "-"}`,
);
if (process.argv.length > 2) console.log(`args=${JSON.stringify(process.argv.slice(2))}`);

let request = {};
try {
  request = JSON.parse(payload.toString("utf8"));
} catch {
  // Not JSON: nothing more to do.
}
if (request && typeof request === "object") {
  for (let line = 1; line <= Number(request.lines ?? 0); line++) console.log(`line ${line}`);
  for (const name of Array.isArray(request.printEnv) ? request.printEnv : [])
    console.log(`env ${name}=${process.env[name] ?? ""}`);
  for (const name of Array.isArray(request.digestEnv) ? request.digestEnv : []) {
    const value = process.env[name];
    console.log(
      value === undefined
        ? `secret ${name} unset`
        : `secret ${name} length=${value.length} sha256=${createHash("sha256").update(value).digest("hex")}`,
    );
  }
  if (typeof request.failOnce === "string" && !existsSync(request.failOnce)) {
    writeFileSync(request.failOnce, "ran once\n");
    console.log("failing on purpose (first run)");
    process.exit(1);
  }
  if (Number(request.sleepSeconds) > 0)
    await new Promise((resolve) => setTimeout(resolve, Number(request.sleepSeconds) * 1000));
  if (request.exitCode !== undefined) process.exit(Number(request.exitCode));
}
