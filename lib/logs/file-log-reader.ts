import { existsSync, readFileSync } from "node:fs";
import type { LogLine, LogReader } from "./log-reader.js";

/** Local stack: the Batch emulator writes each attempt's output to a file (no per-line times). */
export class FileLogReader implements LogReader {
  constructor(private readonly fileFor: (logStreamName: string) => string) {}

  async read(logStreamName: string, options: { since?: number; tail?: number }): Promise<LogLine[]> {
    const file = this.fileFor(logStreamName);
    if (!existsSync(file)) return [];
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    if (lines.at(-1) === "") lines.pop();
    const all = lines.map((message) => ({ message }));
    return options.tail === undefined ? all : all.slice(-options.tail);
  }
}
