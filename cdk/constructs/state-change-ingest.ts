import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { Construct } from "constructs";
import { DeadLetterQueue } from "./dead-letter-queue.js";
import type { JobSchedulerFunction } from "./job-scheduler-function.js";

/** The AWS Batch event this deployment consumes (batch_cwe_events.md). */
export const BATCH_EVENT = { source: "aws.batch", detailType: "Batch Job State Change" } as const;

export interface StateChangeIngestProps {
  /** This deployment's job queues: only their jobs' events are delivered. */
  readonly queueArns: string[];
  /** functions/batch-events. */
  readonly handler: JobSchedulerFunction;
}

/**
 * "Batch Job State Change" events of this deployment's queues, from the default bus to the batch-events
 * function. Delivery is at least once and unordered (the recorder is idempotent and forward-only). Nothing
 * is dropped silently: EventBridge retries delivery for 24 hours (185 attempts, the maximum) and then puts
 * the event in a dead-letter queue; an invocation that keeps failing goes, after Lambda's two retries, to a
 * second dead-letter queue with its error.
 */
export class StateChangeIngest extends Construct {
  public readonly rule: events.Rule;
  /** Events EventBridge could not deliver to the function. */
  public readonly deliveryDeadLetterQueue: DeadLetterQueue;
  /** Invocations that failed after Lambda's retries (records carry the event and the error). */
  public readonly processingDeadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: StateChangeIngestProps) {
    super(scope, id);
    this.deliveryDeadLetterQueue = new DeadLetterQueue(this, "DeliveryDeadLetterQueue", {
      purpose: "Batch Job State Change events EventBridge could not deliver",
    });
    this.processingDeadLetterQueue = new DeadLetterQueue(this, "ProcessingDeadLetterQueue", {
      purpose: "Batch Job State Change events the batch-events function failed to record",
    });
    props.handler.sendFailuresTo(this.processingDeadLetterQueue);
    this.rule = new events.Rule(this, "Rule", {
      description: "AWS Batch job state changes of this job scheduler's queues",
      eventPattern: {
        source: [BATCH_EVENT.source],
        detailType: [BATCH_EVENT.detailType],
        detail: { jobQueue: props.queueArns },
      },
      targets: [
        new targets.LambdaFunction(props.handler, {
          deadLetterQueue: this.deliveryDeadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
  }
}
