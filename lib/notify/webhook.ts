/**
 * Radix's webhook (job-scheduler pkg/notifications): a BatchEvent — the batch status object plus
 * `event` (`Create`, `Update`, `Delete`), on Update only the jobs that changed — POSTed as JSON.
 * Radix fires and forgets; here a failing receiver is retried with exponential backoff and jitter.
 */
export interface WebhookDelivery {
  url: string;
  body: unknown;
}

export interface WebhookOptions {
  attempts: number;
  baseDelayMs: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_WEBHOOK_OPTIONS: WebhookOptions = { attempts: 6, baseDelayMs: 200 };

/** Delivers one notification; throws after the last attempt (the caller dead-letters it). */
export async function deliverWebhook(
  delivery: WebhookDelivery,
  options: WebhookOptions = DEFAULT_WEBHOOK_OPTIONS,
) {
  const send = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
  let last = "";
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const response = await send(delivery.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(delivery.body),
        signal: AbortSignal.timeout(10_000),
      });
      if (response.ok) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (attempt < options.attempts)
      await sleep(options.baseDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
  }
  throw new Error(`webhook ${delivery.url} failed ${options.attempts} times (last: ${last})`);
}
