import { describe, expect, it } from "vitest";
import type { LogReader } from "#lib/logs/log-reader.js";

/** A way to stand up one LogReader implementation over given streams (stream name -> lines, oldest first). */
export interface LogReaderSetup {
  name: string;
  /** Stores the streams (each line stamped one second after the previous, from `firstTime`) and gives a reader. */
  make(streams: Record<string, string[]>, firstTime: number): Promise<LogReader> | LogReader;
}

const FIRST = Date.parse("2024-01-31T12:00:00Z");
const lines = (count: number, prefix = "line") => Array.from({ length: count }, (_, i) => `${prefix} ${i}`);
const messages = (read: { message: string }[]) => read.map((line) => line.message);

/**
 * What the API's GET /jobs/{jobName}/logs relies on from any LogReader (lib/logs/log-reader.ts),
 * written once and run against each implementation (test/unit/contracts/log-readers.test.ts).
 */
export function logReaderContract(setup: LogReaderSetup) {
  describe(`LogReader contract: ${setup.name}`, () => {
    it("a stream that does not exist (yet) has no lines", async () => {
      const reader = await setup.make({ "job/default/a": ["x"] }, FIRST);
      expect(await reader.read("job/default/missing", {})).toEqual([]);
    });

    it("reads a stream in full, oldest first, however many pages it takes", async () => {
      const reader = await setup.make({ "job/default/a": lines(23) }, FIRST);
      expect(messages(await reader.read("job/default/a", {}))).toEqual(lines(23));
    });

    it("keeps each stream's lines to itself", async () => {
      const reader = await setup.make(
        { "job/default/a": lines(3, "a"), "job/default/b": lines(5, "b") },
        FIRST,
      );
      expect(messages(await reader.read("job/default/a", {}))).toEqual(lines(3, "a"));
      expect(messages(await reader.read("job/default/b", {}))).toEqual(lines(5, "b"));
    });

    it("with tail gives exactly the last lines, in order; all of them when there are fewer", async () => {
      const reader = await setup.make({ "job/default/a": lines(23) }, FIRST);
      expect(messages(await reader.read("job/default/a", { tail: 10 }))).toEqual(lines(23).slice(-10));
      expect(messages(await reader.read("job/default/a", { tail: 1 }))).toEqual(["line 22"]);
      expect(messages(await reader.read("job/default/a", { tail: 100 }))).toEqual(lines(23));
    });

    it("with a since before the first line gives every line", async () => {
      const reader = await setup.make({ "job/default/a": lines(7) }, FIRST);
      expect(messages(await reader.read("job/default/a", { since: FIRST - 60_000 }))).toEqual(lines(7));
    });

    it("keeps the text of a line as printed (spaces, tabs, non-ASCII)", async () => {
      const printed = ["  indented", "tab\tseparated", "ÆØÅ – ✓ 日本", '{"json": true}'];
      const reader = await setup.make({ "job/default/a": printed }, FIRST);
      expect(messages(await reader.read("job/default/a", {}))).toEqual(printed);
    });
  });
}
