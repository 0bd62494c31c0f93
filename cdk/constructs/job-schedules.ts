import { createHash } from "node:crypto";
import { Stack } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as scheduler from "aws-cdk-lib/aws-scheduler";
import { Construct } from "constructs";
import type { Schedule } from "../../lib/config/environment.js";
import { eventBridgeExpression } from "../../lib/schedules/cron.js";
import type { ScheduledRun } from "../../lib/schedules/schedule-input.js";
import { allow } from "./allow.js";

export interface JobSchedulesProps {
  readonly app: string;
  /** Per job component, its schedules (radixconfig `schedules` and `cron`, resolved for the environment). */
  readonly schedules: { component: string; schedules: Schedule[] }[];
  /** functions/scheduled-job: creates the job through the create use case. */
  readonly target: lambda.IFunction;
}

/** EventBridge Scheduler names: 1-64 of `[0-9a-zA-Z-_.]` (https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html). */
const MAX_NAME = 64;
const fitName = (name: string) =>
  name.length <= MAX_NAME
    ? name
    : `${name.slice(0, MAX_NAME - 9)}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;

/**
 * One EventBridge Scheduler schedule per configured schedule, in the group `<app>-job-scheduler`, with
 * its cron expression in EventBridge's form and its own time zone
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#cron-based). Each invokes the
 * scheduled-job function with the schedule's input and `<aws.scheduler.scheduled-time>`, the key that makes
 * a repeated delivery of one time create one job. The schedules' role may invoke that function and nothing
 * else; Lambda retries the asynchronous invocation, and its failures go to the function's dead-letter queue.
 */
export class JobSchedules extends Construct {
  public readonly group: scheduler.CfnScheduleGroup;
  public readonly role: iam.Role;
  public readonly schedules: scheduler.CfnSchedule[] = [];

  constructor(scope: Construct, id: string, props: JobSchedulesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.group = new scheduler.CfnScheduleGroup(this, "Group", {
      name: fitName(`${props.app}-job-scheduler`),
    });
    this.role = new iam.Role(this, "Role", {
      assumedBy: new iam.ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
      description: `EventBridge Scheduler schedules of ${props.app}: invoke the scheduled-job function only`,
    });
    allow(this.role, { actions: ["lambda:InvokeFunction"], resources: [props.target.functionArn] });
    for (const { component, schedules } of props.schedules) {
      for (const schedule of schedules) {
        const input: ScheduledRun = {
          component,
          schedule: schedule.name,
          scheduledTime: "<aws.scheduler.scheduled-time>",
          concurrencyPolicy: schedule.concurrencyPolicy,
          ...(schedule.payload !== undefined ? { payload: schedule.payload } : {}),
          ...(schedule.job !== undefined ? { job: schedule.job } : {}),
        };
        const resource = new scheduler.CfnSchedule(this, `Schedule-${component}-${schedule.name}`, {
          name: fitName(`${component}-${schedule.name}`),
          groupName: this.group.ref,
          description: `${component}: ${schedule.cron} (${schedule.timeZone}), concurrencyPolicy ${schedule.concurrencyPolicy}`,
          scheduleExpression: eventBridgeExpression(schedule.cron, schedule.timeZone),
          scheduleExpressionTimezone: schedule.timeZone,
          flexibleTimeWindow: { mode: "OFF" },
          state: "ENABLED",
          target: {
            arn: props.target.functionArn,
            roleArn: this.role.roleArn,
            input: JSON.stringify(input),
            // A run that cannot be delivered within a minute is one the next scheduled time replaces.
            retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 300 },
          },
        });
        this.schedules.push(resource);
      }
    }
  }
}
