import type { LogLine } from "./log-reader.js";

/**
 * Where a follower of a job's output stands: in attempt `attempt`, past `skip` lines. Readers that keep
 * line times (CloudWatch Logs) are read from `time` on (GetLogEvents startTime is inclusive), and `skip`
 * counts the lines at exactly `time` already returned, so lines sharing a millisecond are neither lost
 * nor repeated. Readers without times (the local stack's files) are read from the start and `skip` is
 * the number of lines already returned.
 */
export interface LogCursor {
  attempt: number;
  time?: number;
  skip: number;
}

const CURSOR = /^(\d{1,6})\.(\d{0,15})\.(\d{1,9})$/;

export const encodeCursor = (cursor: LogCursor): string =>
  `${cursor.attempt}.${cursor.time ?? ""}.${cursor.skip}`;

/** The cursor a previous answer gave, or undefined when `text` is not one. */
export function decodeCursor(text: string): LogCursor | undefined {
  const match = CURSOR.exec(text);
  if (!match) return undefined;
  const [, attempt, time, skip] = match;
  return { attempt: Number(attempt), ...(time ? { time: Number(time) } : {}), skip: Number(skip) };
}

/** The lines after the cursor, among the lines read from the cursor's time (or from the start). */
export const linesAfter = (cursor: LogCursor, read: readonly LogLine[]): LogLine[] => read.slice(cursor.skip);

/** The cursor after `delivered`, the lines just returned following `cursor`. */
export function advance(cursor: LogCursor, delivered: readonly LogLine[]): LogCursor {
  const last = delivered.at(-1);
  if (!last) return cursor;
  if (last.timestamp === undefined) return { ...cursor, skip: cursor.skip + delivered.length };
  const atLast = delivered.filter((line) => line.timestamp === last.timestamp).length;
  const carried = cursor.time === last.timestamp ? cursor.skip : 0;
  return { attempt: cursor.attempt, time: last.timestamp, skip: carried + atLast };
}
