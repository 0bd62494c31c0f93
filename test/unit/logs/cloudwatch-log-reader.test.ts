import {
  CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { CloudWatchLogReader } from "#lib/logs/cloudwatch-log-reader.js";

const logs = mockClient(CloudWatchLogsClient);
const reader = () => new CloudWatchLogReader(new CloudWatchLogsClient({}), "/aws/batch/job");
const events = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => ({ timestamp: from + i, message: `line ${from + i}` }));

beforeEach(() => logs.reset());

describe("job logs from CloudWatch Logs", () => {
  it("reads a stream in full, page after page, oldest first", async () => {
    logs
      .on(GetLogEventsCommand, { nextToken: undefined })
      .resolves({ events: events(0, 3), nextForwardToken: "f1" })
      .on(GetLogEventsCommand, { nextToken: "f1" })
      .resolves({ events: events(3, 5), nextForwardToken: "f2" })
      .on(GetLogEventsCommand, { nextToken: "f2" })
      .resolves({ events: [], nextForwardToken: "f2" });
    const lines = await reader().read("job/default/abc", {});
    expect(lines.map((line) => line.message)).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4"]);
    expect(logs.commandCalls(GetLogEventsCommand)[0]!.args[0].input).toMatchObject({
      logGroupName: "/aws/batch/job",
      logStreamName: "job/default/abc",
      startFromHead: true,
    });
  });

  it("with tail reads backwards from the end only as far as needed", async () => {
    logs
      .on(GetLogEventsCommand, { nextToken: undefined })
      .resolves({ events: events(7, 10), nextBackwardToken: "b1" })
      .on(GetLogEventsCommand, { nextToken: "b1" })
      .resolves({ events: events(4, 7), nextBackwardToken: "b2" });
    const lines = await reader().read("s", { tail: 5 });
    expect(lines.map((line) => line.message)).toEqual(["line 5", "line 6", "line 7", "line 8", "line 9"]);
    expect(logs.commandCalls(GetLogEventsCommand)).toHaveLength(2);
  });

  it("a stream that does not exist (yet) has no lines", async () => {
    logs
      .on(GetLogEventsCommand)
      .rejects(new ResourceNotFoundException({ message: "no stream", $metadata: {} }));
    expect(await reader().read("missing", {})).toEqual([]);
  });
});
