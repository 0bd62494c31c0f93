import { parseJobName } from "../domain/names.js";
import { componentSettings, type ServiceDeps } from "../service/deps.js";
import { summariesOf } from "../service/queries.js";
import { batchStatusView, jobStatusView } from "../service/views.js";
import { type BatchRecord, type ShardSummary, shardCountOf, shardOf } from "../store/job-store.js";
import {
  BATCH_STATUS_CHANGE,
  type BatchStatusChange,
  type JobStatusChange,
  type ProductEvent,
} from "./product-events.js";
import { DEFAULT_WEBHOOK_OPTIONS, deliverWebhook, type WebhookOptions } from "./webhook.js";

/**
 * Up to this many shards (1,000 jobs) a job's notification sums the batch's shard summaries for its
 * batch part; above, it shows the batch as of its last status change (the tracker's), so that notifying
 * each job of a 100,000-job batch never reads its 1,000 shard indexes.
 */
const FULL_READ_MAX_SHARDS = 10;

const timeOf = (text: string | undefined) => (text === undefined ? undefined : Date.parse(text));

/** The batch part of a notification from counts recorded with a batch status change (no shard reads). */
const asRecorded = (change: BatchStatusChange): ShardSummary[] => [
  {
    index: 0,
    size: 0,
    counts: change.counts,
    started: timeOf(change.started),
    ended: timeOf(change.ended),
  },
];

/**
 * Sends Radix's webhook for one product event: a BatchEvent (the batch's status object with
 * `event: "Update"`), as Radix sends one when a job or the batch changes state.
 * - Job Status Change: only the changed job in `jobStatuses`, with its status as at that change.
 * - Batch Status Change: `jobStatuses` empty (Radix: empty "when the common properties are changed"),
 *   the batch's status and counts as at that change. A single job has none: its job notifications
 *   carry its status (batchType `job`).
 * Off the events path (the notifier function in AWS, the local bus's consumer on a laptop), so a slow
 * receiver never slows recording. Throws when the receiver keeps failing, for the caller to retry or
 * dead-letter.
 */
export async function notifyWebhook(
  deps: ServiceDeps,
  event: ProductEvent,
  options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS,
) {
  const component = componentSettings(deps, event.detail.component);
  if (!component.webhook) return;
  const batch = await deps.store.getBatch(event.detail.batchName);
  if (!batch) return; // deleted since
  const body =
    event.detailType === BATCH_STATUS_CHANGE
      ? {
          ...batchStatusView(component, batch, asRecorded(event.detail), []),
          status: event.detail.status,
        }
      : await jobNotification(deps, batch, event.detail);
  if (!body) return;
  await deliverWebhook({ url: component.webhook, body: { ...body, event: "Update" } }, options);
}

async function jobNotification(deps: ServiceDeps, batch: BatchRecord, change: JobStatusChange) {
  const component = componentSettings(deps, change.component);
  const parsed = parseJobName(change.jobName);
  if (!parsed) return undefined;
  const { shard, slot } = shardOf(parsed.ordinal);
  const entry = (await deps.store.getEntries(batch.name, shard, [slot])).get(slot);
  if (!entry) return undefined;
  const job = {
    ...jobStatusView(batch, parsed.ordinal, entry),
    status: change.status as ReturnType<typeof jobStatusView>["status"],
  };
  if (shardCountOf(batch.size) <= FULL_READ_MAX_SHARDS) {
    return batchStatusView(component, batch, await summariesOf(deps, batch), [job]);
  }
  const tracker = await deps.store.getTracker(batch.name);
  const shards = tracker?.last
    ? asRecorded(tracker.last)
    : [{ index: 0, size: batch.size, counts: { Waiting: batch.size } }];
  return { ...batchStatusView(component, batch, shards, [job]), status: tracker?.status ?? "Waiting" };
}
