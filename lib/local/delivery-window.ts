/**
 * Collects events delivered one by one into batches, as the SQS event source does in AWS (batch size,
 * batching window), and hands each batch to `handler`. Each delivery settles when its batch has been
 * handled: it fails when the handler throws or names its position among the failed ones, so the Batch
 * emulator's retries still apply per event.
 */
export function deliveryWindow(
  handler: (events: unknown[]) => Promise<ReadonlySet<number> | undefined | unknown>,
  options: { maxEvents: number; maxWaitMs: number },
): (event: unknown) => Promise<void> {
  let pending: { event: unknown; resolve: () => void; reject: (error: unknown) => void }[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    clearTimeout(timer);
    timer = undefined;
    const batch = pending;
    pending = [];
    if (batch.length === 0) return;
    try {
      const failed = await handler(batch.map((item) => item.event));
      batch.forEach((item, position) => {
        if (failed instanceof Set && failed.has(position))
          item.reject(new Error("handler reported it failed"));
        else item.resolve();
      });
    } catch (error) {
      for (const item of batch) item.reject(error);
    }
  };
  return (event) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ event, resolve, reject });
      if (pending.length >= options.maxEvents) void flush();
      else timer ??= setTimeout(() => void flush(), options.maxWaitMs);
    });
}
