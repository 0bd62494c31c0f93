import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { mockClient } from "aws-sdk-client-mock";
import { describe, expect, it } from "vitest";
import { EventBridgePublisher } from "#lib/notify/eventbridge-publisher.js";
import { batchEvent, jobEvent } from "#lib/notify/product-events.js";

const job = (sequence: number) =>
  jobEvent({
    component: "compute",
    batchName: "b",
    jobName: "b-aaaaaaaa",
    previousStatus: "Waiting",
    status: "Active",
    attempts: 0,
    sequence,
    time: "2024-01-01T00:00:00Z",
  });

describe("EventBridgePublisher", () => {
  it("puts events in calls of 10 on the bus, with their detail-type", async () => {
    const mock = mockClient(EventBridgeClient);
    mock.on(PutEventsCommand).resolves({ Entries: [] });
    const events = [
      ...Array.from({ length: 11 }, (_, i) => job(i)),
      batchEvent({
        component: "compute",
        batchName: "b",
        batchType: "batch",
        previousStatus: "Waiting",
        status: "Running",
        counts: {
          Waiting: 1,
          Active: 1,
          Running: 0,
          Succeeded: 0,
          Failed: 0,
          Stopped: 0,
          DeadlineExceeded: 0,
        },
        totalJobs: 2,
        sequence: 1,
        time: "2024-01-01T00:00:00Z",
      }),
    ];
    await new EventBridgePublisher(new EventBridgeClient({}), "bus").publish(events);
    const calls = mock.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries!);
    expect(calls.map((entries) => entries.length)).toEqual([10, 2]);
    expect(calls[1]!.map((entry) => entry.DetailType)).toEqual(["Job Status Change", "Batch Status Change"]);
    expect(calls[0]![0]).toMatchObject({ EventBusName: "bus", Source: "job-scheduler" });
    expect(JSON.parse(calls[0]![3]!.Detail!)).toMatchObject({ sequence: 3 });
  });

  it("sends again from the first failed entry on, so a job's events never overtake each other", async () => {
    const mock = mockClient(EventBridgeClient);
    mock
      .on(PutEventsCommand)
      .resolvesOnce({ Entries: [{ EventId: "1" }, { ErrorCode: "ThrottlingException" }, { EventId: "3" }] })
      .resolves({ Entries: [] });
    await new EventBridgePublisher(new EventBridgeClient({}), "bus").publish([job(1), job(2), job(3)]);
    const sent = mock
      .commandCalls(PutEventsCommand)
      .map((call) => call.args[0].input.Entries!.map((entry) => JSON.parse(entry.Detail!).sequence));
    expect(sent).toEqual([
      [1, 2, 3],
      [2, 3],
    ]);
  });

  it("throws when entries keep failing, for the caller to keep them", async () => {
    const mock = mockClient(EventBridgeClient);
    mock.on(PutEventsCommand).resolves({ Entries: [{ ErrorCode: "InternalFailure" }] });
    await expect(
      new EventBridgePublisher(new EventBridgeClient({}), "bus").publish([job(1)]),
    ).rejects.toThrow(/unpublished/);
    expect(mock.commandCalls(PutEventsCommand)).toHaveLength(5);
  });
});
