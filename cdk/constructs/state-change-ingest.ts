import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { DeadLetterQueue } from "./dead-letter-queue.js";
import type { JobSchedulerFunction } from "./job-scheduler-function.js";

/** The AWS Batch event this deployment consumes (batch_cwe_events.md). */
export const BATCH_EVENT = { source: "aws.batch", detailType: "Batch Job State Change" } as const;

/** Events handed to one invocation; those of one shard (100 jobs) are recorded with one read and one write. */
export const INGEST_BATCH_SIZE = 500;
/** A message that keeps failing is retried this many times, then dead-lettered. */
export const INGEST_MAX_RECEIVE_COUNT = 10;

/**
 * How long an event waits in the ingest queue for the batch-events function: 7 days (SQS default 4, most
 * 14). A message is only this old when the consumer is down or switched off (while it runs, events are
 * recorded within seconds or dead-lettered after {@link INGEST_MAX_RECEIVE_COUNT} receives), and an
 * expired message is deleted, not dead-lettered: the job's outcome is lost. 7 days covers a long weekend
 * plus the time to fix, and matches AWS Batch keeping finished jobs about 7 days, the window in which the
 * reconciler could still repair a lost event by DescribeJobs (job_states.md). It stays below the
 * dead-letter queues' 14 days because SQS keeps a message's first enqueue time when it is dead-lettered
 * ("it is a best practice to always set the retention period of a dead-letter queue to be longer than the
 * retention period of the original queue",
 * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
 * Retention costs nothing (SQS charges per request); an age alarm (Operations) reports a stalled consumer
 * within the hour.
 */
export const INGEST_RETENTION = Duration.days(7);

export interface StateChangeIngestProps {
  /** This deployment's job queues: only their jobs' events are delivered. */
  readonly queueArns: string[];
  /** functions/batch-events. */
  readonly handler: JobSchedulerFunction;
}

/**
 * "Batch Job State Change" events of this deployment's queues: default bus → rule → SQS queue →
 * batch-events function in batches (up to {@link INGEST_BATCH_SIZE} events or 1 s). Why a queue between
 * the rule and the function: a 10,000-child array job emits about 40,000 events in bursts; in batches the
 * function records the events of one shard with one DynamoDB read and one write instead of two operations
 * per event, and never competes with itself for the same shard item. Delivery stays at least once and
 * unordered (the recorder is idempotent and forward-only); failed records are retried alone (partial batch
 * responses) and dead-lettered after {@link INGEST_MAX_RECEIVE_COUNT} receives. EventBridge retries putting
 * into the queue for 24 hours, then dead-letters the event.
 */
export class StateChangeIngest extends Construct {
  public readonly rule: events.Rule;
  public readonly queue: sqs.Queue;
  /** Events EventBridge could not put into the queue. */
  public readonly deliveryDeadLetterQueue: DeadLetterQueue;
  /** Events the batch-events function failed to record INGEST_MAX_RECEIVE_COUNT times. */
  public readonly processingDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: StateChangeIngestProps) {
    super(scope, id);
    this.deliveryDeadLetterQueue = new DeadLetterQueue(this, "DeliveryDeadLetterQueue", {
      purpose: "Batch Job State Change events EventBridge could not put into the ingest queue",
    });
    this.processingDeadLetterQueue = new DeadLetterQueue(this, "ProcessingDeadLetterQueue", {
      purpose: "Batch Job State Change events the batch-events function failed to record",
    });
    const timeout = props.handler.timeout ?? Duration.minutes(1);
    this.queue = new sqs.Queue(this, "Queue", {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      // AWS: at least six times the function timeout, so a message is not received twice while in flight.
      visibilityTimeout: Duration.seconds(timeout.toSeconds() * 6),
      retentionPeriod: INGEST_RETENTION,
      deadLetterQueue: { queue: this.processingDeadLetterQueue, maxReceiveCount: INGEST_MAX_RECEIVE_COUNT },
    });
    this.rule = new events.Rule(this, "Rule", {
      description: "AWS Batch job state changes of this job scheduler's queues",
      eventPattern: {
        source: [BATCH_EVENT.source],
        detailType: [BATCH_EVENT.detailType],
        detail: { jobQueue: props.queueArns },
      },
      targets: [
        new targets.SqsQueue(this.queue, {
          deadLetterQueue: this.deliveryDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    props.handler.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: INGEST_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(1),
        reportBatchItemFailures: true,
      }),
    );
  }
}
