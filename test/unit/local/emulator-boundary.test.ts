import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The boundary of the Batch emulator package (packages/batch-emulator, issue 14): the product reaches
 * it only through its package name, and the package never reaches into the product. Both directions
 * are plain text checks of import specifiers, so a violation is also found with
 *   grep -rnE "@local/batch-emulator/|batch-emulator/src|lib/local/batch-emulator" lib functions cdk test scripts
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const PACKAGE = "packages/batch-emulator";
const NAME = "@local/batch-emulator";
const SKIP = new Set(["node_modules", ".git", ".wt", "cdk.out", ".data", "coverage", "test-output"]);
const SOURCE = /\.(?:[cm]?ts|tsx|[cm]?js)$/;

/**
 * Every module specifier of a file (static imports and re-exports, `import("x")`), read with
 * TypeScript's own scanner so that comments and strings (e.g. `require("fs")` in a child program's
 * source) do not count.
 */
function specifiersOf(text: string): string[] {
  return ts.preProcessFile(text, true, false).importedFiles.map((file) => file.fileName);
}

/** Source files under `dir` (repository-relative, `/`-separated), skipping installs and build output. */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

/** Where a relative specifier of `file` points, repository-relative (`/`-separated). */
const target = (file: string, specifier: string) =>
  relative(ROOT, resolve(ROOT, dirname(file), specifier))
    .split(sep)
    .join("/");

/**
 * A specifier outside the package that reaches past its entry point: a subpath of the package name
 * (`@local/batch-emulator/internals` is for the package's own tests), a path into the package's
 * folder, or the emulator's old place in lib/local.
 */
function outsideViolation(file: string, specifier: string): string | undefined {
  if (specifier.startsWith(`${NAME}/`)) return `${file}: imports ${specifier}; use "${NAME}" only`;
  const points = specifier.startsWith(".") ? target(file, specifier) : specifier;
  if (points === PACKAGE || points.startsWith(`${PACKAGE}/`) || points.includes("batch-emulator/src"))
    return `${file}: imports ${specifier} (inside ${PACKAGE}); import "${NAME}" instead`;
  if (points.includes("lib/local/batch-emulator"))
    return `${file}: imports ${specifier}; the emulator is the package "${NAME}" now`;
  return undefined;
}

/**
 * A specifier inside the package that leaves it or is not declared: the product's `#lib/*` style
 * aliases, a relative path out of the package, or a bare import that its package.json does not list.
 */
function insideViolation(file: string, specifier: string, declared: ReadonlySet<string>) {
  if (specifier.startsWith("#")) return `${file}: imports the product's ${specifier}`;
  if (specifier.startsWith(".")) {
    const points = target(file, specifier);
    return points.startsWith(`${PACKAGE}/`) ? undefined : `${file}: imports ${specifier}, outside ${PACKAGE}`;
  }
  if (specifier.startsWith("node:") || specifier === NAME || specifier.startsWith(`${NAME}/`))
    return undefined;
  const name = specifier.startsWith("@")
    ? specifier.split("/").slice(0, 2).join("/")
    : specifier.split("/")[0]!;
  return declared.has(name) ? undefined : `${file}: imports ${specifier}, not in ${PACKAGE}/package.json`;
}

/**
 * A relative specifier of one of the package's tests that leaves its test folder: the tests reach the
 * emulator as users do, through the package name, never by a path into src/; a relative path may only
 * name shared test support next to them (packages/batch-emulator/test/support.ts).
 */
function testViolation(file: string, specifier: string) {
  if (!specifier.startsWith(".")) return undefined;
  return target(file, specifier).startsWith(`${PACKAGE}/test/`)
    ? undefined
    : `${file}: imports ${specifier}, outside ${PACKAGE}/test; import "${NAME}" instead`;
}

const manifest = JSON.parse(readFileSync(join(ROOT, PACKAGE, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
};

describe("the Batch emulator package boundary", () => {
  it("nothing outside packages/batch-emulator imports the emulator's internals", () => {
    const files = sourceFiles("").filter((file) => !file.startsWith(`${PACKAGE}/`));
    expect(files).toContain("lib/local/stack.ts");
    const violations = files.flatMap((file) =>
      specifiersOf(readFileSync(join(ROOT, file), "utf8")).flatMap(
        (specifier) => outsideViolation(file, specifier) ?? [],
      ),
    );
    expect(violations).toEqual([]);
    expect(specifiersOf(readFileSync(join(ROOT, "lib/local/stack.ts"), "utf8"))).toContain(NAME);
  });

  it("the package imports nothing from the product and only the dependencies it declares", () => {
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.devDependencies ?? {}),
    ]);
    const files = sourceFiles(PACKAGE);
    expect(files.length).toBeGreaterThan(25);
    const violations = files.flatMap((file) =>
      specifiersOf(readFileSync(join(ROOT, file), "utf8")).flatMap(
        (specifier) => insideViolation(file, specifier, declared) ?? [],
      ),
    );
    expect(violations).toEqual([]);
    // Its tests reach it as users do: through the package name, not relative paths into src/.
    const tests = files.filter((path) => path.startsWith(`${PACKAGE}/test/`));
    expect(tests).toContain(`${PACKAGE}/test/support.ts`);
    expect(
      tests.flatMap((file) =>
        specifiersOf(readFileSync(join(ROOT, file), "utf8")).flatMap(
          (specifier) => testViolation(file, specifier) ?? [],
        ),
      ),
    ).toEqual([]);
  });

  it("declares one entry point (and the internals subpath for its own tests), exact-pinned dependencies", () => {
    expect(manifest.name).toBe(NAME);
    expect(Object.keys(manifest.exports)).toEqual([".", "./internals"]);
    for (const file of Object.values(manifest.exports))
      expect(existsSync(join(ROOT, PACKAGE, file))).toBe(true);
    for (const version of Object.values({ ...manifest.dependencies, ...manifest.devDependencies }))
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("the checks catch what they are for", () => {
    const text = `// read from "w"\nimport { a } from "x";\nconst b = await import("y");\nimport "z";\nconst c = 'require("v")';`;
    expect(specifiersOf(text)).toEqual(["x", "y", "z"]);
    expect(outsideViolation("lib/local/stack.ts", NAME)).toBeUndefined();
    expect(outsideViolation("lib/local/stack.ts", `${NAME}/internals`)).toMatch(/use "@local/);
    expect(outsideViolation("lib/local/stack.ts", "../../packages/batch-emulator/src/faults.js")).toMatch(
      /inside packages\/batch-emulator/,
    );
    expect(
      outsideViolation("test/unit/local/x.test.ts", "../../../lib/local/batch-emulator/index.js"),
    ).toMatch(/package/);
    const declared = new Set(["@aws-sdk/client-batch"]);
    const file = `${PACKAGE}/src/engine.ts`;
    expect(insideViolation(file, "./paths.js", declared)).toBeUndefined();
    expect(insideViolation(file, "@aws-sdk/client-batch", declared)).toBeUndefined();
    expect(insideViolation(file, "#lib/domain/ids.js", declared)).toMatch(/product/);
    expect(insideViolation(file, "../../../lib/domain/ids.js", declared)).toMatch(/outside/);
    expect(insideViolation(file, "zod", declared)).toMatch(/not in/);
    const test = `${PACKAGE}/test/engine.test.ts`;
    expect(testViolation(test, "./support.js")).toBeUndefined();
    expect(testViolation(test, NAME)).toBeUndefined();
    expect(testViolation(test, "../src/engine.js")).toMatch(/outside packages\/batch-emulator\/test/);
    expect(testViolation(test, "../../../lib/domain/ids.js")).toMatch(/outside/);
  });
});
