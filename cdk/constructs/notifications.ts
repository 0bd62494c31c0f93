import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DeadLetterQueue } from "./dead-letter-queue.js";
import type { JobSchedulerFunction } from "./job-scheduler-function.js";

/**
 * detail-types of the product's own events on its bus (DESIGN.md "Notifications"); lib/notify publishes
 * them, other services may subscribe to them.
 */
export const STATUS_CHANGE_DETAIL_TYPES = ["Job Status Change", "Batch Status Change"] as const;

/** A webhook that keeps failing is retried this many times (with the queue's visibility timeout as backoff). */
export const NOTIFY_MAX_RECEIVE_COUNT = 5;

/**
 * How long a status change waits in the notification queue for the notifier: 7 days, for the reasons of
 * the ingest queue (state-change-ingest.ts INGEST_RETENTION): only a stopped notifier lets a message age
 * (a failing webhook is dead-lettered after {@link NOTIFY_MAX_RECEIVE_COUNT} receives), an expired message
 * vanishes without a dead letter, and the dead-letter queue (14 days) must outlive the source. A late
 * webhook is harmless: the notifier keeps order per job and drops a change older than the one it sent.
 */
export const NOTIFY_RETENTION = Duration.days(7);

export interface NotificationsProps {
  /** `metadata.name`: the bus is `<app>-job-scheduler`. */
  readonly app: string;
  /**
   * functions/notifier, which consumes the queue. Absent while functions/notifier.ts does not exist:
   * the bus, rule and queue are still created.
   */
  readonly consumer?: JobSchedulerFunction;
}

/**
 * The product's own EventBridge bus for job and batch status changes, and the path to Radix webhooks:
 * a rule on the bus → SQS queue → notifier function (partial batch failures; a message that fails
 * {@link NOTIFY_MAX_RECEIVE_COUNT} times goes to a dead-letter queue).
 *
 * Standard queue, not FIFO: EventBridge's SQS target takes only a static MessageGroupId (no input path),
 * so a FIFO queue would be one message group, delivering every webhook of the deployment one at a time.
 * Per-job order is kept by the notifier instead (it can drop a change older than the one last sent).
 */
export class Notifications extends Construct {
  public readonly bus: events.EventBus;
  public readonly rule: events.Rule;
  public readonly queue: sqs.Queue;
  /** Notifications the notifier failed to deliver NOTIFY_MAX_RECEIVE_COUNT times. */
  public readonly deadLetterQueue: DeadLetterQueue;
  /** Events EventBridge could not put into the queue. */
  public readonly deliveryDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.bus = new events.EventBus(this, "Bus", {
      eventBusName: `${props.app}-job-scheduler`,
      description: "Job and batch status changes of the job scheduler",
    });
    this.deadLetterQueue = new DeadLetterQueue(this, "DeadLetterQueue", {
      purpose: "status change notifications the notifier could not deliver",
    });
    this.deliveryDeadLetterQueue = new DeadLetterQueue(this, "DeliveryDeadLetterQueue", {
      purpose: "status change events EventBridge could not put into the notification queue",
    });
    const consumerTimeout = props.consumer?.timeout ?? Duration.minutes(1);
    this.queue = new sqs.Queue(this, "Queue", {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      // AWS Lambda's advice for SQS event sources: at least six times the function timeout.
      visibilityTimeout: Duration.seconds(consumerTimeout.toSeconds() * 6),
      retentionPeriod: NOTIFY_RETENTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: NOTIFY_MAX_RECEIVE_COUNT },
    });
    this.rule = new events.Rule(this, "StatusChanges", {
      description: "Job and batch status changes to the webhook notifier",
      eventBus: this.bus,
      eventPattern: { detailType: [...STATUS_CHANGE_DETAIL_TYPES] },
      targets: [
        new targets.SqsQueue(this.queue, {
          deadLetterQueue: this.deliveryDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    props.consumer?.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: 10,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
      }),
    );
  }
}
