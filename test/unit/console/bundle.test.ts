import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONSOLE_SCRIPT } from "#lib/console/assets.generated.js";
import { buildConsoleScript, generatedModule } from "#lib/console/build.js";
import { consolePage } from "#lib/console/page.js";

describe("the console's bundled assets", () => {
  it("are the current build of lib/console/ui (run `npm run console` after changing it)", async () => {
    const built = await buildConsoleScript();
    expect(readFileSync(new URL("../../../lib/console/assets.generated.ts", import.meta.url), "utf8")).toBe(
      generatedModule(built),
    );
  });

  it("stay small and self-contained: no URL outside the page's own API", () => {
    expect(CONSOLE_SCRIPT.length).toBeLessThan(80_000);
    expect(CONSOLE_SCRIPT).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    const page = consolePage();
    expect(page).toContain("<js-console></js-console>");
    expect(page.match(/<\/script/gi)).toHaveLength(1);
  });
});
