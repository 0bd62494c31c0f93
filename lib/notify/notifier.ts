import type { JobEntry } from "../domain/job-state.js";
import { jobName, parseJobName } from "../domain/names.js";
import { componentSettings, type JobChange, type ServiceDeps } from "../service/deps.js";
import { allShards } from "../service/queries.js";
import { batchStatusView, jobStatusView, rfc3339 } from "../service/views.js";
import { shardOf } from "../store/job-store.js";
import type { JobStatusChange } from "./product-events.js";
import { DEFAULT_WEBHOOK_OPTIONS, deliverWebhook, type WebhookOptions } from "./webhook.js";

/** The product event for a job's status change (what the events handler publishes). */
export function jobStatusChange(change: JobChange, entry: JobEntry, now: number): JobStatusChange {
  const event: JobStatusChange = {
    component: change.component,
    batchName: change.batchName,
    jobName: jobName(change.batchName, change.ordinal),
    previousStatus: change.previousStatus,
    status: change.status,
    attempts: entry.attempts.length,
    time: rfc3339(now) ?? new Date(now).toISOString(),
  };
  if (entry.jobId !== undefined) event.jobId = entry.jobId;
  if (entry.exitCode !== undefined) event.exitCode = entry.exitCode;
  if (entry.message) event.message = entry.message;
  if (entry.batchStatus) event.batchJobStatus = entry.batchStatus;
  if (entry.statusReason) event.statusReason = entry.statusReason;
  return event;
}

/**
 * Sends Radix's webhook for one job status change: the BatchEvent body (the batch's status object, with
 * `event: "Update"` and only the changed job in jobStatuses, as it was at that change). Off the events
 * path (the notifier function in AWS, the local bus's consumer on a laptop), so a slow receiver never
 * slows recording. Throws when the receiver keeps failing, for the caller to retry or dead-letter.
 */
export async function notifyWebhook(
  deps: ServiceDeps,
  change: JobStatusChange,
  options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS,
) {
  const component = componentSettings(deps, change.component);
  if (!component.webhook) return;
  const found = await deps.store.getBatch(change.batchName);
  if (!found) return; // deleted since
  const { batch, shard0 } = found;
  const parsed = parseJobName(change.jobName);
  if (!parsed) return;
  const { ordinal } = parsed;
  const { shard, slot } = shardOf(ordinal);
  const shards = await allShards(deps, batch, shard0);
  const entry = shards.find((candidate) => candidate.index === shard)?.entries.get(slot);
  if (!entry) return;
  const job = {
    ...jobStatusView(batch, ordinal, entry),
    status: change.status as ReturnType<typeof jobStatusView>["status"],
  };
  const body = { ...batchStatusView(component, batch, shards, [job]), event: "Update" };
  await deliverWebhook({ url: component.webhook, body }, options);
}
