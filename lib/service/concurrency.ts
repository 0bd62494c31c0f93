/**
 * Runs `work` over `items` with at most `concurrency` in flight, in order of start (a small worker
 * pool: SubmitJob calls are throttled per account, so they are spread over a few workers, not all at once).
 */
export async function runConcurrently<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
