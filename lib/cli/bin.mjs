#!/usr/bin/env node
// `npx job-scheduler …` (package.json bin): runs the CLI's TypeScript through tsx, as `npm start` does.
import { readFileSync } from "node:fs";
import { register } from "tsx/esm/api";

register();
const { run } = await import("./main.ts");
const interrupted = new Promise((resolve) => process.once("SIGINT", resolve));
process.exitCode = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  stdin: () => readFileSync(0, "utf8"),
  interrupted,
});
