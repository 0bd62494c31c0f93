import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { loadConfigFile } from "#lib/config/load.js";
import { bundledRuntimeConfig } from "#lib/config/runtime.js";
import { BUNDLE_TARGET, bundledConfigDefine, ESM_REQUIRE_BANNER } from "../../cdk/bundling.js";

/**
 * Bundles each Lambda entry in functions/ as cdk/ does (esbuild, ESM, node22, minified, SDK included)
 * and measures the module init time: a fresh Node process importing the bundle, as a cold start does
 * (without the Lambda runtime's own start).
 */
export async function benchBundles(): Promise<{ name: string; bytes: number; initMs: number }[]> {
  const outdir = mkdtempSync(join(tmpdir(), "job-scheduler-bundles-"));
  const entries = readdirSync("functions").filter((file) => file.endsWith(".ts"));
  const env = {
    ...process.env,
    TABLE_NAME: "sample-jobs",
    BUCKET_NAME: "sample-payloads",
    COMPONENT: "compute",
    SUBMITTER_FUNCTION_NAME: "submitter",
    BATCH_LOG_GROUP: "/aws/batch/job",
    AWS_REGION: "eu-west-1",
    AWS_ACCESS_KEY_ID: "x",
    AWS_SECRET_ACCESS_KEY: "x",
  };
  const results: { name: string; bytes: number; initMs: number }[] = [];
  try {
    for (const entry of entries) {
      const name = entry.replace(/\.ts$/, "");
      const outfile = join(outdir, `${name}.mjs`);
      await build({
        entryPoints: [join("functions", entry)],
        outfile,
        bundle: true,
        platform: "node",
        target: BUNDLE_TARGET,
        format: "esm",
        minify: true,
        // As cdk/constructs/job-scheduler-function.ts bundles them: ES module builds of the SDK first.
        mainFields: ["module", "main"],
        banner: { js: ESM_REQUIRE_BANNER },
        // The deployment settings inside the code, as cdk/ bundles them.
        define: bundledConfigDefine(bundledRuntimeConfig(loadConfigFile("radixconfig.yaml"))),
        logLevel: "silent",
      });
      const script = `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`;
      const samples = Array.from({ length: 5 }, () =>
        Number(
          execFileSync(process.execPath, ["--input-type=module", "-e", script], {
            env,
            encoding: "utf8",
          }).trim(),
        ),
      ).sort((a, b) => a - b);
      results.push({ name, bytes: statSync(outfile).size, initMs: samples[2]! });
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  return results;
}
