import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import type * as events from "aws-cdk-lib/aws-events";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { DeadLetterQueue } from "./dead-letter-queue.js";
import type { JobsApi } from "./jobs-api.js";

/** An EventBridge rule and the bus it is on (custom-bus rules publish metrics with EventBusName too). */
export interface WatchedRule {
  readonly rule: events.IRule;
  /** @default the default bus */
  readonly eventBusName?: string;
}

/** A queue a function consumes, and how old its oldest message may get before someone should look. */
export interface WatchedQueue {
  readonly queue: sqs.IQueue;
  readonly purpose: string;
  readonly maxAge: Duration;
}

export interface OperationsProps {
  /** Shown as the dashboard name prefix. */
  readonly app: string;
  readonly functions: readonly lambda.IFunction[];
  readonly deadLetterQueues: readonly DeadLetterQueue[];
  readonly rules: readonly WatchedRule[];
  readonly apis: readonly JobsApi[];
  /** Work queues: a message older than `maxAge` means the consumer stalled, long before retention ends. */
  readonly workQueues?: readonly WatchedQueue[];
}

const PERIOD = Duration.minutes(5);

/**
 * What an operator watches: an alarm for any function error, for anything in a dead-letter queue, for any
 * EventBridge invocation that failed and for a work queue whose oldest message is too old (its consumer
 * stalled: messages would expire unseen), and one dashboard. The alarms have no actions: wire them to a
 * topic or an incident tool of the account (e.g. `alarm.addAlarmAction(...)`).
 */
export class Operations extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const atLeastOnce = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };

    for (const fn of props.functions) {
      this.alarms.push(
        fn.metricErrors({ period: PERIOD, statistic: "Sum" }).createAlarm(this, `Errors-${fn.node.id}`, {
          ...atLeastOnce,
          alarmDescription: `${fn.node.id} threw an error`,
        }),
      );
    }
    for (const queue of props.deadLetterQueues) {
      this.alarms.push(
        queue
          .metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: "Maximum" })
          .createAlarm(this, `DeadLetters-${queue.node.path.replaceAll("/", "-")}`, {
            ...atLeastOnce,
            alarmDescription: `Messages in a dead-letter queue: ${queue.purpose}`,
          }),
      );
    }
    for (const { queue, purpose, maxAge } of props.workQueues ?? []) {
      this.alarms.push(
        queue
          .metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: "Maximum" })
          .createAlarm(this, `Stalled-${queue.node.path.replaceAll("/", "-")}`, {
            threshold: maxAge.toSeconds(),
            evaluationPeriods: 1,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
            alarmDescription: `The oldest message waited ${maxAge.toHumanString()} or more: ${purpose}`,
          }),
      );
    }
    const failedInvocations = props.rules.map(
      ({ rule, eventBusName }) =>
        new cloudwatch.Metric({
          namespace: "AWS/Events",
          metricName: "FailedInvocations",
          dimensionsMap: eventBusName
            ? { RuleName: rule.ruleName, EventBusName: eventBusName }
            : { RuleName: rule.ruleName },
          period: PERIOD,
          statistic: "Sum",
        }),
    );
    props.rules.forEach(({ rule }, index) => {
      this.alarms.push(
        failedInvocations[index]!.createAlarm(
          this,
          `FailedInvocations-${rule.node.path.replaceAll("/", "-")}`,
          {
            ...atLeastOnce,
            alarmDescription: `EventBridge could not invoke a target of ${rule.node.path}`,
          },
        ),
      );
    });

    this.dashboard = new cloudwatch.Dashboard(this, "Dashboard", {
      dashboardName: `${props.app}-job-scheduler`,
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "API requests and errors",
        width: 12,
        left: props.apis.flatMap(({ api }) => [
          api.metricCount({ period: PERIOD }),
          api.metricServerError({ period: PERIOD }),
        ]),
        right: props.apis.map(({ api }) => api.metricClientError({ period: PERIOD })),
      }),
      new cloudwatch.GraphWidget({
        title: "API latency p99",
        width: 12,
        left: props.apis.map(({ api }) => api.metricLatency({ period: PERIOD, statistic: "p99" })),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Function errors",
        width: 12,
        left: props.functions.map((fn) => fn.metricErrors({ period: PERIOD, label: fn.node.id })),
      }),
      new cloudwatch.GraphWidget({
        title: "Function duration p99",
        width: 12,
        left: props.functions.map((fn) =>
          fn.metricDuration({ period: PERIOD, statistic: "p99", label: fn.node.id }),
        ),
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: "Dead-letter queues",
        width: 12,
        left: props.deadLetterQueues.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, label: queue.purpose }),
        ),
      }),
      new cloudwatch.GraphWidget({
        title: "EventBridge failed invocations",
        width: 12,
        left: failedInvocations,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: "Alarms", width: 24, alarms: this.alarms }),
    );
  }
}
