import { Duration } from "aws-cdk-lib";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import { Construct } from "constructs";
import type { JobSchedulerFunction } from "./job-scheduler-function.js";

export interface ReconcilerProps {
  /** functions/reconciler. */
  readonly handler: JobSchedulerFunction;
  /** @default Duration.minutes(5) */
  readonly every?: Duration;
}

/**
 * Runs the reconciler on a schedule: it repairs what missed events left behind, ends jobs past their
 * deadline and resumes stalled submissions. A failed run is not retried: the next one follows within
 * `every` and does the same work.
 */
export class Reconciler extends Construct {
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    const every = props.every ?? Duration.minutes(5);
    props.handler.configureAsyncInvoke({ retryAttempts: 0 });
    this.rule = new events.Rule(this, "Schedule", {
      description: "Job scheduler reconciler",
      schedule: events.Schedule.rate(every),
      targets: [new targets.LambdaFunction(props.handler, { retryAttempts: 2, maxEventAge: every })],
    });
  }
}
