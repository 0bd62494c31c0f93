import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * How the Lambda entry points are bundled, shared by JobSchedulerFunction and the bundling test (which
 * must not import aws-cdk-lib just for these constants).
 */

/** The repository root: functions/ and package-lock.json live there. */
export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Path of a Lambda entry point in functions/. */
export const functionEntry = (name: string): string => join(PROJECT_ROOT, "functions", `${name}.ts`);

/** The entry points the stack deploys (functions/<name>.ts). */
export const FUNCTION_ENTRIES = [
  "api",
  "submitter",
  "batch-events",
  "notifier",
  "reconciler",
  "scheduled-job",
] as const;

/** esbuild target of the Lambda runtime (NODEJS_22_X). */
export const BUNDLE_TARGET = "node22";

/**
 * ESM bundles can still contain CommonJS dependencies that call `require` for Node built-ins; this is
 * esbuild's documented way to give them one (evanw/esbuild#1921).
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";
