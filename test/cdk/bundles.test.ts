import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  BUNDLE_TARGET,
  bundledConfigDefine,
  ESM_REQUIRE_BANNER,
  FUNCTION_ENTRIES,
  functionEntry,
  PROJECT_ROOT,
} from "../../cdk/bundling.js";
import { loadConfigFile } from "../../lib/config/load.js";
import { bundledRuntimeConfig } from "../../lib/config/runtime.js";

/** The settings of the 10-component fixture, bundled as JobSchedulerFunction bundles them. */
const define = bundledConfigDefine(
  bundledRuntimeConfig(loadConfigFile("test/fixtures/many-components.yaml")),
);

/**
 * Bundles every Lambda entry point as JobSchedulerFunction does at `cdk synth` (esbuild, Node 22, ESM with
 * the createRequire banner, minified, nothing external: the AWS SDK v3 is inside), so a broken import or an
 * entry esbuild cannot bundle fails here rather than at deploy. Sizes are printed for the record.
 */
describe("Lambda bundles", () => {
  for (const name of FUNCTION_ENTRIES) {
    const entry = functionEntry(name);
    const file = relative(PROJECT_ROOT, entry);
    const missing = !existsSync(entry);
    it.skipIf(missing)(
      `${file} bundles into one ESM file${missing ? ` (skipped: ${file} does not exist yet)` : ""}`,
      async () => {
        const result = await build({
          entryPoints: [entry],
          bundle: true,
          platform: "node",
          target: BUNDLE_TARGET,
          format: "esm",
          minify: true,
          banner: { js: ESM_REQUIRE_BANNER },
          define,
          mainFields: ["module", "main"],
          external: [],
          write: false,
          outfile: "index.mjs",
          logLevel: "silent",
        });
        expect(result.errors).toEqual([]);
        const [bundle] = result.outputFiles;
        expect(bundle).toBeDefined();
        const code = bundle!.text;
        // Nothing left to resolve at run time but Node built-ins: the SDK v3 is bundled.
        expect(code).not.toMatch(/from\s*"@aws-sdk\//);
        expect(code).toMatch(/export\s*\{[^}]*handler/);
        console.info(`functions/${name}.ts: ${(bundle!.contents.byteLength / 1024).toFixed(0)} KiB`);
      },
    );
  }

  it("a bundle starts with its settings inside and only TABLE_NAME and BUCKET_NAME in the environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bundle-cold-start-"));
    try {
      const outfile = join(dir, "index.mjs");
      await build({
        entryPoints: [functionEntry("reconciler")],
        bundle: true,
        platform: "node",
        target: BUNDLE_TARGET,
        format: "esm",
        banner: { js: ESM_REQUIRE_BANNER },
        define,
        mainFields: ["module", "main"],
        outfile,
        logLevel: "silent",
      });
      const coldStart = (env: Record<string, string>) =>
        execFileSync(
          process.execPath,
          ["--input-type=module", "-e", `await import(${JSON.stringify(outfile)})`],
          {
            env: { PATH: process.env.PATH, AWS_REGION: "eu-west-1", ...env },
            encoding: "utf8",
            stdio: "pipe",
          },
        );
      expect(() => coldStart({ TABLE_NAME: "fleet-jobs", BUCKET_NAME: "fleet-payloads" })).not.toThrow();
      expect(() => coldStart({ BUCKET_NAME: "fleet-payloads" })).toThrow(/TABLE_NAME not set/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
