/**
 * Runs tasks with the same key one after another, tasks with different keys in parallel. Used to
 * serialise read-modify-writes of one shard item within a process: without it, concurrent events for
 * jobs of the same shard (array children progress together) would mostly lose their conditional writes
 * to each other and retry. Across processes (Lambda instances) the conditional write still decides.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
