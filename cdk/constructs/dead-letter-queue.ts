import { Duration, Validations } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";

export interface DeadLetterQueueProps {
  /** What fails into this queue, for the console and the cdk-nag acknowledgement. */
  readonly purpose: string;
}

/**
 * Where undeliverable or unprocessable messages wait for a person: TLS only, SQS-managed encryption,
 * kept 14 days (the SQS maximum). Operations alarms when anything arrives.
 */
export class DeadLetterQueue extends sqs.Queue {
  public readonly purpose: string;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id, {
      enforceSSL: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      retentionPeriod: Duration.days(14),
    });
    this.purpose = props.purpose;
    Validations.of(this).acknowledge({
      id: "AwsSolutions-SQS3",
      reason: `This queue is itself a dead-letter queue (${props.purpose}); a dead-letter queue has none of its own.`,
    });
  }
}
