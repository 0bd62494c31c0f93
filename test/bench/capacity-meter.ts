import { randomUUID } from "node:crypto";

/** The part of an AWS SDK v3 client the meter needs. */
interface Instrumentable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
        context: { commandName?: string },
      ) => (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

interface Consumed {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
  Table?: { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}

const READS = new Set(["GetItem", "Query", "Scan", "BatchGetItem"]);
const WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"]);

export interface CapacityTotals {
  rcu: number;
  wcu: number;
  /** The largest capacity one write call consumed (a BatchWriteItem counts per item). */
  largestWrite: number;
  calls: number;
  /** Partition keys written, with how many writes each took. */
  keysWritten: Map<string, number>;
}

const empty = (): CapacityTotals => ({ rcu: 0, wcu: 0, largestWrite: 0, calls: 0, keysWritten: new Map() });

/**
 * Capacity units DynamoDB bills, read from `ReturnConsumedCapacity: "INDEXES"`, which the meter adds to
 * every call of an instrumented client (dynalite computes them from item sizes as DynamoDB does: a
 * write 1 WCU per started KB of the larger of the item before and after, a strongly consistent read 1
 * RCU per started 4 KB, index writes on top). `measure` scopes what is counted.
 */
export class CapacityMeter {
  private totals = empty();
  private active = false;
  private include: () => boolean = () => true;

  attach(client: unknown) {
    (client as Instrumentable).middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? "").replace(/Command$/, "");
        const metered = READS.has(operation) || WRITES.has(operation);
        if (metered) args.input.ReturnConsumedCapacity = "INDEXES";
        const result = await next(args);
        if (metered && this.active && this.include()) this.record(operation, args.input, result.output);
        return result;
      },
      { step: "initialize", name: `capacity-${randomUUID()}` },
    );
  }

  private record(operation: string, input: Record<string, unknown>, output: Record<string, unknown>) {
    const consumed = ([] as Consumed[]).concat((output.ConsumedCapacity as Consumed | Consumed[]) ?? []);
    let units = 0;
    for (const entry of consumed) units += entry.CapacityUnits ?? 0;
    this.totals.calls++;
    if (READS.has(operation)) {
      this.totals.rcu += units;
      return;
    }
    this.totals.wcu += units;
    const items =
      operation === "BatchWriteItem"
        ? Object.values((input.RequestItems as Record<string, unknown[]>) ?? {}).flat().length
        : 1;
    this.totals.largestWrite = Math.max(this.totals.largestWrite, units / Math.max(1, items));
    for (const key of keysOf(operation, input)) {
      this.totals.keysWritten.set(key, (this.totals.keysWritten.get(key) ?? 0) + 1);
    }
  }

  /** Counts the calls made while `work` runs; with `include`, only those it says yes to. */
  async measure<T>(
    work: () => Promise<T>,
    include: () => boolean = () => true,
  ): Promise<{ result: T; totals: CapacityTotals }> {
    this.totals = empty();
    this.include = include;
    this.active = true;
    try {
      const result = await work();
      return { result, totals: this.totals };
    } finally {
      this.active = false;
    }
  }
}

function keysOf(operation: string, input: Record<string, unknown>): string[] {
  const pkOf = (item: unknown) => {
    const value = (item as { pk?: unknown } | undefined)?.pk;
    if (typeof value === "string") return value;
    const raw = (value as { S?: unknown } | undefined)?.S;
    return typeof raw === "string" ? raw : JSON.stringify(value);
  };
  if (operation === "BatchWriteItem") {
    return Object.values((input.RequestItems as Record<string, Record<string, unknown>[]>) ?? {})
      .flat()
      .map((request) => {
        const put = request.PutRequest as { Item?: unknown } | undefined;
        const del = request.DeleteRequest as { Key?: unknown } | undefined;
        return pkOf(put?.Item ?? del?.Key);
      });
  }
  return [pkOf(input.Key ?? input.Item)];
}
