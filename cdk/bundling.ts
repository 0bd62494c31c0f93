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

/**
 * The identifier esbuild replaces with the deployment's settings (lib/config/runtime.ts reads it): the
 * settings live in the function code, not in its 4 KB environment.
 */
export const BUNDLED_CONFIG_GLOBAL = "__JOB_SCHEDULER_CONFIG__";

/**
 * Linux refuses a single command-line argument over 128 KiB (MAX_ARG_STRLEN), and esbuild gets the
 * settings as one `--define:` argument; well below that, synth fails with a clear message instead.
 */
export const MAX_BUNDLED_CONFIG_BYTES = 100 * 1024;

/** esbuild's `define` that puts the settings (JSON text from `bundledRuntimeConfig`) into the bundle. */
export function bundledConfigDefine(settings: string): Record<string, string> {
  const bytes = Buffer.byteLength(settings, "utf8");
  if (bytes > MAX_BUNDLED_CONFIG_BYTES) {
    throw new Error(
      `the deployment settings are ${bytes} bytes of JSON; at most ${MAX_BUNDLED_CONFIG_BYTES} can be bundled into the functions (fewer or smaller spec.jobs variables, webhooks or batchStatusRules)`,
    );
  }
  // A JSON string literal: esbuild substitutes it as the string's value.
  return { [BUNDLED_CONFIG_GLOBAL]: JSON.stringify(settings) };
}
