import { afterEach, describe, expect, it } from "vitest";
import { METRICS_NAMESPACE, PowertoolsMetricsSink } from "#lib/observability/metrics.js";

const write = process.stdout.write.bind(process.stdout);
afterEach(() => {
  process.stdout.write = write;
});

describe("metrics", () => {
  it("are flushed as one CloudWatch embedded-metric-format line with the product's names", () => {
    const lines: string[] = [];
    process.stdout.write = ((chunk: unknown) => {
      lines.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    const sink = new PowertoolsMetricsSink("job-scheduler-test");
    sink.count("JobsSubmitted", 10_000);
    sink.count("StateTransitions", 3);
    sink.milliseconds("EventLag", 420);
    sink.flush();
    process.stdout.write = write;
    const emf = lines.map((line) => JSON.parse(line)).find((entry) => entry._aws);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe(METRICS_NAMESPACE);
    expect(emf._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual([
      "EventLag",
      "JobsSubmitted",
      "StateTransitions",
    ]);
    expect(emf).toMatchObject({
      JobsSubmitted: 10_000,
      StateTransitions: 3,
      EventLag: 420,
      service: "job-scheduler-test",
    });
  });
});
