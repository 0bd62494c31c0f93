import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ScheduleRun, ScheduleStateStore } from "./schedule-state.js";

/**
 * Schedule state in the job table, beside the batches: `pk` = `SCHED#<component>#<schedule>`, `sk` =
 * `STATE`. One conditional PutItem per run: a run is recorded only if it is for a later scheduled time,
 * so EventBridge Scheduler's at-least-once deliveries and late retries never move a schedule back.
 */
export class DynamoScheduleState implements ScheduleStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  private key(component: string, schedule: string) {
    return { pk: `SCHED#${component}#${schedule}`, sk: "STATE" };
  }

  async last(component: string, schedule: string): Promise<ScheduleRun | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key(component, schedule), ConsistentRead: true }),
    );
    if (!Item) return undefined;
    return {
      scheduledAt: Number(Item.scheduledAt),
      outcome: Item.outcome === "skipped" ? "skipped" : "created",
      ...(typeof Item.jobName === "string" ? { jobName: Item.jobName } : {}),
    };
  }

  async record(component: string, schedule: string, run: ScheduleRun): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...this.key(component, schedule), ...run },
          ConditionExpression: "attribute_not_exists(pk) OR scheduledAt < :at",
          ExpressionAttributeValues: { ":at": run.scheduledAt },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
