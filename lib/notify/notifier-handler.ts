import type { ServiceDeps } from "../service/deps.js";
import { notifyWebhook } from "./notifier.js";
import { jobStatusChangeSchema } from "./product-events.js";

/**
 * The notifier function: SQS records whose bodies are EventBridge events from the product bus. A
 * receiver that still fails after a few quick attempts is left to SQS (visibility timeout, then the
 * dead-letter queue after cdk's NOTIFY_MAX_RECEIVE_COUNT); a malformed record is dropped.
 */
export function createNotifierHandler(deps: ServiceDeps) {
  return async (event: { Records: { messageId: string; body: string }[] }) => {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      let detail: unknown;
      try {
        detail = (JSON.parse(record.body) as { detail?: unknown }).detail;
      } catch {
        detail = undefined;
      }
      const parsed = jobStatusChangeSchema.safeParse(detail);
      if (!parsed.success) {
        deps.logger.warn("not a Job Status Change event; dropped", { messageId: record.messageId });
        continue;
      }
      try {
        await notifyWebhook(deps, parsed.data, { attempts: 3, baseDelayMs: 200 });
        deps.metrics?.count("WebhooksDelivered");
      } catch (error) {
        deps.metrics?.count("WebhookFailures");
        deps.logger.warn("webhook failed; SQS retries it", { batchName: parsed.data.batchName, error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    deps.metrics?.flush();
    return { batchItemFailures };
  };
}
