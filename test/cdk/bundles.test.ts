import { existsSync } from "node:fs";
import { relative } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import {
  BUNDLE_TARGET,
  ESM_REQUIRE_BANNER,
  FUNCTION_ENTRIES,
  functionEntry,
  PROJECT_ROOT,
} from "../../cdk/bundling.js";

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
});
