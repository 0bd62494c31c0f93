import type { Context } from "aws-lambda";
import { invocationDeps } from "../observability/correlation.js";
import type { ServiceDeps } from "../service/deps.js";
import { notifyWebhook } from "./notifier.js";
import { type ProductEvent, productEventEnvelopeSchema } from "./product-events.js";

/**
 * The notifier function: SQS records whose bodies are EventBridge events from the product bus (Job and
 * Batch Status Change). A receiver that still fails after a few quick attempts is left to SQS
 * (visibility timeout, then the dead-letter queue after cdk's NOTIFY_MAX_RECEIVE_COUNT); a malformed
 * record is dropped. Each record's log lines carry its message id and the event's correlation id.
 */
export function createNotifierHandler(deps: ServiceDeps) {
  return async (event: { Records: { messageId: string; body: string }[] }, context?: Partial<Context>) => {
    const scoped = invocationDeps(deps, { context });
    const { logger } = scoped;
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
      logger.appendKeys({ messageId: record.messageId });
      try {
        let body: unknown;
        try {
          body = JSON.parse(record.body);
        } catch {
          body = undefined;
        }
        const parsed = productEventEnvelopeSchema.safeParse(body);
        if (!parsed.success) {
          logger.warn("not a Job or Batch Status Change event; dropped");
          continue;
        }
        const productEvent = {
          detailType: parsed.data["detail-type"],
          detail: parsed.data.detail,
        } as ProductEvent;
        if (productEvent.detail.correlationId) logger.setCorrelationId(productEvent.detail.correlationId);
        try {
          await notifyWebhook(scoped, productEvent, { attempts: 3, baseDelayMs: 200 });
          deps.metrics?.count("WebhooksDelivered");
        } catch (error) {
          deps.metrics?.count("WebhookFailures");
          logger.warn("webhook failed; SQS retries it", { batchName: productEvent.detail.batchName, error });
          batchItemFailures.push({ itemIdentifier: record.messageId });
        }
      } finally {
        logger.removeKeys(["messageId", "correlation_id"]);
      }
    }
    deps.metrics?.flush();
    return { batchItemFailures };
  };
}
