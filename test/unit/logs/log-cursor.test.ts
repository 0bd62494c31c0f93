import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { advance, decodeCursor, encodeCursor, type LogCursor, linesAfter } from "#lib/logs/log-cursor.js";
import type { LogLine } from "#lib/logs/log-reader.js";

/** One poll of a follower: read (from the cursor's time when lines have times), take what is new. */
function poll(stream: readonly LogLine[], cursor: LogCursor) {
  const read =
    cursor.time === undefined ? stream : stream.filter((line) => (line.timestamp ?? 0) >= cursor.time!);
  const lines = linesAfter(cursor, read);
  return { lines, cursor: advance(cursor, lines) };
}

describe("log follow cursors", () => {
  it("round-trip through their text form and reject anything else", () => {
    const cursors: LogCursor[] = [
      { attempt: 0, skip: 0 },
      { attempt: 3, skip: 120 },
      { attempt: 1, time: 1_700_000_000_123, skip: 2 },
    ];
    for (const cursor of cursors) expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
    for (const bad of ["", "x", "1.2", "-1..0", "0..", "1.2.3.4", "0.abc.1"])
      expect(decodeCursor(bad)).toBeUndefined();
  });

  it("without line times, each poll returns exactly the lines after the last one returned", () => {
    const stream: LogLine[] = [{ message: "a" }, { message: "b" }];
    const first = poll(stream, { attempt: 0, skip: 0 });
    expect(first.lines.map((l) => l.message)).toEqual(["a", "b"]);
    stream.push({ message: "c" });
    const second = poll(stream, first.cursor);
    expect(second.lines.map((l) => l.message)).toEqual(["c"]);
    expect(poll(stream, second.cursor).lines).toEqual([]);
  });

  it("with line times, lines sharing a millisecond across polls are neither lost nor repeated", () => {
    const stream: LogLine[] = [
      { timestamp: 10, message: "a" },
      { timestamp: 20, message: "b" },
    ];
    const first = poll(stream, { attempt: 0, skip: 0 });
    expect(first.cursor).toEqual({ attempt: 0, time: 20, skip: 1 });
    stream.push({ timestamp: 20, message: "c" }, { timestamp: 30, message: "d" });
    const second = poll(stream, first.cursor);
    expect(second.lines.map((l) => l.message)).toEqual(["c", "d"]);
  });

  it("delivers every line exactly once whatever the times and the moments of the polls", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.boolean()), { maxLength: 60 }),
        fc.boolean(),
        (steps, timed) => {
          const stream: LogLine[] = [];
          const delivered: string[] = [];
          let cursor: LogCursor = { attempt: 0, skip: 0 };
          let time = 1000;
          steps.forEach(([gap, pollNow], index) => {
            time += gap; // gap 0: the same millisecond as the line before
            stream.push(timed ? { timestamp: time, message: `l${index}` } : { message: `l${index}` });
            if (pollNow) {
              const result = poll(stream, cursor);
              delivered.push(...result.lines.map((l) => l.message));
              cursor = result.cursor;
            }
          });
          delivered.push(...poll(stream, cursor).lines.map((l) => l.message));
          expect(delivered).toEqual(stream.map((l) => l.message));
        },
      ),
    );
  });
});
