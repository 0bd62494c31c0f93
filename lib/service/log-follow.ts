import { BadRequestError, InvalidRequestError, NotFoundError } from "../api/errors.js";
import type { LogChunk } from "../api/log-chunk.js";
import { isFinal } from "../domain/status.js";
import { advance, decodeCursor, encodeCursor, type LogCursor, linesAfter } from "../logs/log-cursor.js";
import type { LogLine, LogReader } from "../logs/log-reader.js";
import { attemptStreams } from "./attempt-streams.js";
import type { ServiceDeps } from "./deps.js";
import { findJob } from "./queries.js";

export interface FollowQuery {
  /** From a previous answer; without it the answer starts a follow. */
  cursor?: string;
  /** Starting a follow: only the last N lines of what is there (default: all). */
  tail?: number;
  /** Follow this attempt (podIndex) only; default: the latest attempt, then each later one. */
  attempt?: number;
}

/** Reads one attempt's lines from the cursor on, and the cursor after them. */
async function readFrom(logs: LogReader, stream: string, cursor: LogCursor) {
  const read = await logs.read(stream, cursor.time === undefined ? {} : { since: cursor.time });
  const lines = linesAfter(cursor, read);
  return { lines, cursor: advance(cursor, lines) };
}

/** Starts at the end of an attempt's output, returning its last `tail` lines (all without tail). */
async function readTail(logs: LogReader, stream: string, attempt: number, tail: number | undefined) {
  const start: LogCursor = { attempt, skip: 0 };
  if (tail === undefined) return readFrom(logs, stream, start);
  const last = await logs.read(stream, { tail });
  if (last.at(-1)?.timestamp !== undefined) {
    // Times kept: the cursor only needs the lines at the last line's time (all within the tail unless
    // more than `tail` lines share that millisecond).
    return { lines: last, cursor: advance(start, last) };
  }
  const all = await logs.read(stream, {});
  return { lines: all.slice(-tail || all.length), cursor: advance(start, all) };
}

/**
 * GET /jobs/{name}/logs/follow: a job's output in chunks, for polling clients. The first call (no
 * cursor) returns what the chosen attempt printed so far (or its last `tail` lines); each call with
 * the returned cursor returns only newer lines. Without `attempt` the follow moves on to a later
 * attempt (a retry or a restart) once the current one has nothing more. `final` says the job ended and
 * nothing is left to return.
 *
 * @example
 *   let chunk = await followJobLogs(deps, "compute", name, { tail: 100 });
 *   while (!chunk.final) chunk = await followJobLogs(deps, "compute", name, { cursor: chunk.cursor });
 */
export async function followJobLogs(
  deps: ServiceDeps,
  componentName: string,
  name: string,
  query: FollowQuery,
): Promise<LogChunk> {
  const logs = deps.logs;
  if (!logs) throw new BadRequestError("logs are not available in this deployment");
  const given = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  if (query.cursor !== undefined && !given) {
    throw new InvalidRequestError("query parameter cursor is not one this API returned");
  }
  const { batch, ordinal, entry } = await findJob(deps, componentName, name);
  const streams = await attemptStreams(deps, batch, ordinal, entry);
  if (query.attempt !== undefined && query.attempt >= streams.length) {
    throw new NotFoundError("attempt", `${query.attempt} of job ${name}`);
  }
  const pinned = query.attempt;
  const ended = isFinal(entry.status);
  const chunk = (attempt: number | null, lines: LogLine[], cursor: LogCursor, more: boolean): LogChunk => ({
    attempt,
    lines: lines.map((line) => line.message),
    cursor: encodeCursor(cursor),
    final: ended && lines.length === 0 && !more,
  });
  /** The first attempt at or after `from` that has output (a stream). */
  const withOutput = (from: number) => {
    for (let index = from; index < streams.length; index++) if (streams[index]) return index;
    return undefined;
  };

  if (!given) {
    const start =
      pinned ?? [...streams.keys()].reverse().find((index) => streams[index] !== undefined) ?? undefined;
    const stream = start === undefined ? undefined : streams[start];
    if (start === undefined || !stream) {
      // Nothing printed yet: the follow starts at the first attempt that will have output.
      return chunk(null, [], { attempt: pinned ?? 0, skip: 0 }, false);
    }
    const read = await readTail(logs, stream, start, query.tail);
    return chunk(start, read.lines, read.cursor, pinned === undefined && withOutput(start + 1) !== undefined);
  }

  const cursor: LogCursor = pinned === undefined ? given : { ...given, attempt: pinned };
  const current = streams[cursor.attempt];
  if (current) {
    const read = await readFrom(logs, current, cursor);
    const later = pinned === undefined ? withOutput(cursor.attempt + 1) : undefined;
    if (read.lines.length > 0 || later === undefined) {
      return chunk(cursor.attempt, read.lines, read.cursor, later !== undefined);
    }
    // This attempt has nothing more and a later one has output: go on with it from its start.
    const next = await readFrom(logs, streams[later]!, { attempt: later, skip: 0 });
    return chunk(later, next.lines, next.cursor, withOutput(later + 1) !== undefined);
  }
  const next = pinned === undefined ? withOutput(cursor.attempt) : undefined;
  if (next === undefined) return chunk(null, [], cursor, false);
  const read = await readFrom(logs, streams[next]!, { attempt: next, skip: 0 });
  return chunk(next, read.lines, read.cursor, withOutput(next + 1) !== undefined);
}
