import { randomUUID } from "node:crypto";

/** The part of an AWS SDK v3 client the counter needs. */
interface Instrumentable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

/** Counts calls per AWS API operation (and items written by BatchWriteItem) on SDK clients. */
export class CallCounter {
  readonly calls = new Map<string, number>();

  /** `ignore` tells calls not to count (e.g. those made while handling a state event). */
  constructor(private readonly ignore: () => boolean = () => false) {}

  attach(name: string, client: unknown) {
    (client as Instrumentable).middlewareStack.add(
      (next, context) => async (args) => {
        const operation = `${name}:${String(context.commandName ?? "?").replace(/Command$/, "")}`;
        if (this.ignore()) return next(args);
        this.calls.set(operation, (this.calls.get(operation) ?? 0) + 1);
        return next(args);
      },
      { step: "initialize", name: `count-${name}-${randomUUID()}` },
    );
  }

  snapshot(): Map<string, number> {
    return new Map(this.calls);
  }

  since(before: Map<string, number>): Record<string, number> {
    const delta: Record<string, number> = {};
    for (const [operation, count] of this.calls) {
      const difference = count - (before.get(operation) ?? 0);
      if (difference > 0) delta[operation] = difference;
    }
    return delta;
  }
}

export const sum = (counts: Record<string, number>, prefix: string, names?: string[]) =>
  Object.entries(counts)
    .filter(
      ([operation]) =>
        operation.startsWith(prefix) && (!names || names.some((name) => operation.endsWith(`:${name}`))),
    )
    .reduce((total, [, count]) => total + count, 0);
