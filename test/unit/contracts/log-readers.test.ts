import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  type GetLogEventsCommandInput,
  type OutputLogEvent,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach } from "vitest";
import { CloudWatchLogReader } from "#lib/logs/cloudwatch-log-reader.js";
import { FileLogReader } from "#lib/logs/file-log-reader.js";
import { logReaderContract } from "./log-reader.contract.js";

// Local stack: the Batch emulator's log files, one per stream, lines as printed.
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
logReaderContract({
  name: "FileLogReader (local stack)",
  make(streams) {
    const dir = mkdtempSync(join(tmpdir(), "log-contract-"));
    dirs.push(dir);
    const fileFor = (stream: string) => join(dir, encodeURIComponent(stream));
    for (const [stream, lines] of Object.entries(streams)) {
      writeFileSync(fileFor(stream), lines.map((line) => `${line}\n`).join(""));
    }
    return new FileLogReader(fileFor);
  },
});

/**
 * AWS: GetLogEvents answers as the CloudWatch Logs API documents them (API_GetLogEvents.html): pages
 * of events in time order; from the head forwards, or without startFromHead the newest page first and
 * nextBackwardToken for earlier ones; at either end the token passed in comes back; a stream that does
 * not exist is ResourceNotFoundException. Pages are 4 events here (AWS: up to 10,000 events or 1 MB)
 * so that every contract case crosses pages.
 */
const PAGE = 4;
const logs = mockClient(CloudWatchLogsClient);
afterEach(() => logs.reset());
afterAll(() => logs.restore());

function answer(stored: Map<string, OutputLogEvent[]>, input: GetLogEventsCommandInput) {
  const all = stored.get(input.logStreamName ?? "");
  if (!all)
    throw new ResourceNotFoundException({
      message: "The specified log stream does not exist.",
      $metadata: {},
    });
  const events = all.filter(
    (event) => input.startTime === undefined || (event.timestamp ?? 0) >= input.startTime,
  );
  const [direction, at] = (input.nextToken ?? (input.startFromHead ? "f/0" : `b/${events.length}`)).split(
    "/",
  );
  const position = Number(at);
  const [start, end] =
    direction === "f"
      ? [position, Math.min(events.length, position + PAGE)]
      : [Math.max(0, position - PAGE), position];
  const page = events.slice(start, end);
  return {
    events: page,
    nextForwardToken: page.length === 0 && direction === "f" ? input.nextToken : `f/${end}`,
    nextBackwardToken: page.length === 0 && direction === "b" ? input.nextToken : `b/${start}`,
  };
}

logReaderContract({
  name: "CloudWatchLogReader (AWS, GetLogEvents answers)",
  make(streams, firstTime) {
    const stored = new Map(
      Object.entries(streams).map(([stream, lines]) => [
        stream,
        lines.map((message, i) => ({
          timestamp: firstTime + i * 1000,
          message,
          ingestionTime: firstTime + i * 1000,
        })),
      ]),
    );
    logs.on(GetLogEventsCommand).callsFake((input: GetLogEventsCommandInput) => answer(stored, input));
    return new CloudWatchLogReader(new CloudWatchLogsClient({ region: "eu-west-1" }), "/aws/batch/job");
  },
});
