import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";

/**
 * Port: the product's operational metrics (issue 7): jobs submitted, state transitions, submission
 * latency, event lag, webhook failures. In AWS they are CloudWatch embedded-metric-format lines written
 * by Powertools and flushed at the end of each invocation; the local stack passes none.
 */
export interface MetricsSink {
  count(name: MetricName, value?: number): void;
  milliseconds(name: MetricName, value: number): void;
  /** Writes what was recorded (one EMF line) and starts over. */
  flush(): void;
}

export type MetricName =
  | "JobsSubmitted"
  | "SubmissionLatency"
  | "StateTransitions"
  | "EventLag"
  | "WebhooksDelivered"
  | "WebhookFailures"
  /** Product events a PutEvents could not publish (kept for a retry: lib/service/entries.ts). */
  | "ProductEventFailures";

/** Namespace of the metrics in CloudWatch. */
export const METRICS_NAMESPACE = "JobScheduler";

export class PowertoolsMetricsSink implements MetricsSink {
  private readonly metrics: Metrics;

  constructor(serviceName: string, metrics?: Metrics) {
    this.metrics = metrics ?? new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  }

  count(name: MetricName, value = 1) {
    this.metrics.addMetric(name, MetricUnit.Count, value);
  }

  milliseconds(name: MetricName, value: number) {
    this.metrics.addMetric(name, MetricUnit.Milliseconds, Math.max(0, value));
  }

  flush() {
    this.metrics.publishStoredMetrics();
  }
}
