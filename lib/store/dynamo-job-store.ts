import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { StatusCounts } from "../domain/aggregate.js";
import type { Phase, ShardMembership } from "../domain/batch-phase.js";
import { type IndexedState, indexCode, statusOfCode, throughIndex } from "../domain/index-state.js";
import { type JobEntry, newEntry } from "../domain/job-state.js";
import { isFinal } from "../domain/status.js";
import type { EndCounts } from "../domain/stop-policy.js";
import type { BatchStatusChange } from "../notify/product-events.js";
import {
  type BatchRecord,
  type BatchTracker,
  type BatchType,
  type GroupRecord,
  type GroupState,
  type JobStore,
  type ListedBatch,
  type ListingQuery,
  type Page,
  SHARD_SIZE,
  type ShardState,
  type ShardSummary,
  type ShardWrite,
  type ShardWriteResult,
  type StoredJob,
  shardCountOf,
} from "./job-store.js";

/**
 * DynamoDB single-table layout (partition key `pk`, sort key `sk`, GSI `gsi1` on `gsi1pk`/`gsi1sk`,
 * sparse GSI `gsi2` on `gsi2pk`/`gsi2sk`):
 * - `B#<batch>` / `R`: the batch record (small; written at creation, stop, restart, settling);
 * - shard n of a batch is the partition `B#<batch>` (n = 0) or `B#<batch>#<n>`, holding
 *   - `I`: the shard's index: `k<slot>` = progress × 8 + status (lib/domain/index-state.ts) for every
 *     job changed so far (a job not in it is Waiting), `s<slot>` = the start of a job's attempt in
 *     progress while only the index knows it, `size`, `batchType`, `tStart`/`tEnd`. About 1 KB for 100
 *     jobs; counts come from it, never from the jobs' items;
 *   - `J<slot>`: one job's entry, created with the job's first change that carries more than a status
 *     (or at creation when the caller gave it a jobId), written on its own: a change costs by the size
 *     of that job, not of the shard. Status-only changes (PENDING to RUNNING) go to the index
 *     alone and the item lags behind it; readers see the item moved forward by the index;
 * - `B#<batch>` / `G#<n>`: AWS Batch submission n (plain or array job) of the batch;
 * - `B#<batch>` / `T`: the batch's status tracker (batches only): number sets `startedShards` and
 *   `endedShards`, the recorded `status`/`phase`/`seq`/`published`, the pending event `last`;
 * - `D#<component>#<type>#<digest>` / `<created>#<name>`: the reuse index;
 * - `gsi1pk` = `L#<component>#<job|batch>`, `gsi1sk` = `<created ISO>#<name>` on the record: listing
 *   without a scan; `gsi2pk` = `ACTIVE` on the record until every job has ended (the reconciler's list).
 *
 * A job's change is at most two single-item writes, never a transaction (dynalite has none, and a
 * transaction costs twice): its own item, conditional on its version, then the index, whose per-job
 * codes only move forward (`k < :new`), so a repeat, a late or a lost index write leaves the counts
 * right once the job's latest status is written there (a redelivery or the reconciler repeats it:
 * {@link DynamoJobStore.repairIndex}). Each shard is its own partition key, so a batch's events spread
 * over size/100 keys instead of one.
 */
const batchPk = (batchName: string) => `B#${batchName}`;
const shardPk = (batchName: string, shard: number) =>
  shard === 0 ? batchPk(batchName) : `B#${batchName}#${shard}`;
const RECORD_KEY = "R";
const INDEX_KEY = "I";
const jobKey = (slot: number) => `J${String(slot).padStart(2, "0")}`;
const groupKey = (index: number) => `G#${String(index).padStart(5, "0")}`;
const listKey = (component: string, type: BatchType) => `L#${component}#${type}`;
const TRACKER_KEY = "T";
const ACTIVE = "ACTIVE";
const digestKey = (component: string, type: BatchType, digest: string) => `D#${component}#${type}#${digest}`;

/** BatchGetItem takes at most 100 keys. */
const BATCH_GET_LIMIT = 100;
/** Up to this many jobs of a shard are read by key; more, by one Query of the shard's partition. */
const GET_BY_KEY_MAX = 8;
/** Shards read in parallel when a caller asks for many. */
const SHARD_READ_CONCURRENCY = 8;
/**
 * Jobs moved by one UpdateItem of a shard's index: each adds a condition of about 48 bytes and 4
 * operators, and DynamoDB refuses an expression past 4 KB or 300 operators (lib/local/dynamo-limits.ts).
 */
const INDEX_MOVES_PER_WRITE = 40;
/** Conditional index writes lost to concurrent ones are retried this many times. */
const INDEX_ATTEMPTS = 8;

/** BatchWriteItem takes at most 25 requests; unprocessed ones are retried with backoff. */
const BATCH_WRITE_LIMIT = 25;

type Item = Record<string, unknown>;

const KEY_ATTRIBUTES = new Set(["pk", "sk", "ttl"]);

function toEntry(item: Item): JobEntry {
  return Object.fromEntries(
    Object.entries(item).filter(([key]) => !KEY_ATTRIBUTES.has(key)),
  ) as unknown as JobEntry;
}

const slotOfKey = (sk: string) => Number(sk.slice(1));

/** What a shard's index holds of one job (undefined: nothing, the job is as its item says). */
function indexedOf(index: Item | undefined, slot: number): IndexedState | undefined {
  const code = index?.[`k${slot}`];
  if (typeof code !== "number") return undefined;
  const start = index?.[`s${slot}`];
  return typeof start === "number" ? { code, start } : { code };
}

/** One job's move in its shard's index: its new code, and what moves with it. */
interface IndexMove {
  slot: number;
  code: number;
  /** The start of its attempt in progress, kept in the index while the item does not have it. */
  start?: number;
  /** Its first start and its end: the shard's first start and last end move with them. */
  started?: number;
  ended?: number;
}

/** What moving a shard's index did: the index before and after, and which jobs' codes moved from what. */
interface IndexMoved {
  before: Item;
  after: Item;
  applied: Set<number>;
  oldCodes: Map<number, number | undefined>;
}

/** The index move of a change written to the job's item (the item has its times: the index drops `s`). */
function moveOf(slot: number, entry: JobEntry): IndexMove {
  return {
    slot,
    code: indexCode(entry),
    ...(entry.started === undefined ? {} : { started: entry.started }),
    ...(isFinal(entry.status) && entry.ended !== undefined ? { ended: entry.ended } : {}),
  };
}

/** Counts by status from an index item (jobs it does not name are Waiting). */
function countsOfIndex(index: Item, size: number): Partial<StatusCounts> {
  const counts: Record<string, number> = {};
  let named = 0;
  for (const [key, value] of Object.entries(index)) {
    if (!/^k\d+$/.test(key) || typeof value !== "number") continue;
    named++;
    const status = statusOfCode(value);
    counts[status] = (counts[status] ?? 0) + 1;
  }
  if (size > named) counts.Waiting = (counts.Waiting ?? 0) + size - named;
  return counts;
}

function toSummary(index: Item): ShardSummary {
  const size = index.size as number;
  const summary: ShardSummary = {
    index: shardIndexOfPk(String(index.pk)),
    size,
    counts: countsOfIndex(index, size),
  };
  if (typeof index.tStart === "number") summary.started = index.tStart;
  if (typeof index.tEnd === "number") summary.ended = index.tEnd;
  return summary;
}

function shardIndexOfPk(pk: string): number {
  const parts = pk.split("#");
  return parts.length > 2 ? Number(parts[2]) : 0;
}

function toBatch(item: Item): BatchRecord {
  return {
    name: item.name as string,
    component: item.component as string,
    batchType: item.batchType as BatchType,
    batchId: item.batchId as string | undefined,
    created: item.created as number,
    size: item.size as number,
    groupCount: item.groupCount as number,
    payloadKey: item.payloadKey as string | undefined,
    stopRequested: item.stopRequested as number | undefined,
    ttl: item.ttl as number | undefined,
    projects: item.projects as string[] | undefined,
    submittedBy: item.submittedBy as string | undefined,
    ttlAfterFinish: item.ttlAfterFinish as number | undefined,
    digest: item.digest as string | undefined,
    restarted: item.restarted as number | undefined,
    stopPolicy: item.stopPolicy as BatchRecord["stopPolicy"],
    stopReason: item.stopReason as string | undefined,
    canary: item.canary as BatchRecord["canary"],
    canaryReleased: item.canaryReleased as number | undefined,
    maxParallel: item.maxParallel as number | undefined,
    projectCaps: item.projectCaps as BatchRecord["projectCaps"],
    dependsOn: item.dependsOn as BatchRecord["dependsOn"],
    dependenciesMet: item.dependenciesMet as number | undefined,
    dependencyUnmet: item.dependencyUnmet as string | undefined,
    dependents: stringsOf(item.dependents),
  };
}

/** A string set attribute as a sorted list; undefined when absent or empty. */
function stringsOf(set: unknown): string[] | undefined {
  return set instanceof Set && set.size > 0 ? [...set].map(String).sort() : undefined;
}

const sumOf = (map: unknown): number =>
  map && typeof map === "object" ? Object.values(map).reduce((total: number, n) => total + Number(n), 0) : 0;

/** A shard's key in the tracker's failedBy / lostBy maps. */
const shardMapKey = (shard: number) => `s${shard}`;

const numbersOf = (set: unknown): number[] =>
  set instanceof Set ? [...set].map(Number).sort((a, b) => a - b) : [];

function toTracker(item: Item): BatchTracker {
  const tracker: BatchTracker = {
    shardCount: item.shardCount as number,
    startedShards: numbersOf(item.startedShards),
    endedShards: numbersOf(item.endedShards),
    status: item.status as string,
    phase: item.phase as Phase,
    seq: item.seq as number,
    published: item.published as number,
  };
  if (item.last !== undefined) tracker.last = item.last as BatchStatusChange;
  return tracker;
}

function toGroup(item: Item): GroupRecord {
  const { pk: _pk, sk: _sk, ttl: _ttl, ...group } = item;
  return group as unknown as GroupRecord;
}

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createBatch(
    batch: BatchRecord,
    groups: GroupRecord[],
    jobIds: (string | undefined)[],
  ): Promise<void> {
    const items: Item[] = [];
    const shardCount = shardCountOf(batch.size);
    const created = `${new Date(batch.created).toISOString()}#${batch.name}`;
    items.push({
      ...stripUndefined(batch),
      pk: batchPk(batch.name),
      sk: RECORD_KEY,
      gsi1pk: listKey(batch.component, batch.batchType),
      gsi1sk: created,
      gsi2pk: ACTIVE,
      gsi2sk: created,
    });
    for (let shard = 0; shard < shardCount; shard++) {
      const first = shard * SHARD_SIZE;
      const size = Math.min(batch.size, first + SHARD_SIZE) - first;
      items.push({
        pk: shardPk(batch.name, shard),
        sk: INDEX_KEY,
        size,
        batchType: batch.batchType,
        ...(batch.stopPolicy ? { stopPolicy: { ...batch.stopPolicy, batchSize: batch.size } } : {}),
        ...(batch.canary && first < batch.canary.jobs ? { canaryJobs: batch.canary.jobs } : {}),
        ...(batch.ttl === undefined ? {} : { ttl: batch.ttl }),
      });
      // A job's item appears with its first change; one the caller labelled is written now, with its label.
      for (let slot = 0; slot < size; slot++) {
        const jobId = jobIds[first + slot];
        if (jobId === undefined) continue;
        items.push({
          ...newEntry(jobId),
          pk: shardPk(batch.name, shard),
          sk: jobKey(slot),
          ...(batch.ttl === undefined ? {} : { ttl: batch.ttl }),
        });
      }
    }
    for (const group of groups)
      items.push({
        ...stripUndefined(group),
        pk: batchPk(batch.name),
        sk: groupKey(group.index),
        ttl: batch.ttl,
      });
    if (batch.digest !== undefined) {
      // The reuse index: one small item per digest version, newest first by its sort key.
      items.push({
        pk: digestKey(batch.component, batch.batchType, batch.digest),
        sk: created,
        batchName: batch.name,
        ttl: batch.ttl,
      });
    }
    if (batch.batchType === "batch") {
      items.push({
        pk: batchPk(batch.name),
        sk: TRACKER_KEY,
        ttl: batch.ttl,
        shardCount,
        status: "Waiting",
        phase: "waiting",
        seq: 0,
        published: 0,
        // Per shard counts of failed and lost jobs (stopPolicy): a map of at most one small entry per shard.
        ...(batch.stopPolicy ? { failedBy: {}, lostBy: {} } : {}),
      });
    }
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async getBatch(name: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(name), sk: RECORD_KEY },
        ConsistentRead: true,
      }),
    );
    return Item ? toBatch(Item) : undefined;
  }

  /**
   * One Query of the shard's partition: its index and the items of the jobs written so far, each job
   * as a reader sees it (its item moved forward by its index code).
   */
  async getShard(batchName: string, shard: number): Promise<ShardState | undefined> {
    const items = await this.queryShard(batchName, shard);
    const index = items.find((item) => item.sk === INDEX_KEY);
    if (!index) return undefined;
    const summary = toSummary(index);
    const stored = new Map<number, JobEntry>();
    for (const item of items)
      if (item.sk !== INDEX_KEY) stored.set(slotOfKey(String(item.sk)), toEntry(item));
    const entries = new Map<number, JobEntry>();
    for (let slot = 0; slot < summary.size; slot++)
      entries.set(slot, throughIndex(stored.get(slot) ?? newEntry(), indexedOf(index, slot)));
    return { ...summary, batchType: index.batchType as BatchType | undefined, entries };
  }

  async listShards(batchName: string, fromShard: number, limit: number) {
    const indexes = Array.from({ length: Math.max(0, limit) }, (_, i) => fromShard + i);
    const shards: (ShardState | undefined)[] = new Array(indexes.length);
    let next = 0;
    const worker = async () => {
      while (next < indexes.length) {
        const i = next++;
        shards[i] = await this.getShard(batchName, indexes[i]!);
      }
    };
    await Promise.all(Array.from({ length: SHARD_READ_CONCURRENCY }, worker));
    return shards.filter((shard): shard is ShardState => shard !== undefined);
  }

  async getSummaries(batchName: string, shardCount: number): Promise<ShardSummary[]> {
    const keys = Array.from({ length: shardCount }, (_, shard) => ({
      pk: shardPk(batchName, shard),
      sk: INDEX_KEY,
    }));
    const items = await this.batchGet(keys);
    return items.map(toSummary).sort((a, b) => a.index - b.index);
  }

  async getEntries(batchName: string, shard: number, slots: number[]) {
    const { jobs } = await this.readJobs(batchName, shard, slots, { withIndex: true });
    const entries = new Map<number, JobEntry>();
    for (const [slot, { item, indexed }] of jobs) entries.set(slot, throughIndex(item, indexed));
    return entries;
  }

  /**
   * Up to {@link GET_BY_KEY_MAX} jobs are read by key (with the index's key when asked: about 1 KB, one
   * more read unit), more by one Query of the shard's partition, which reads its index along.
   */
  async readJobs(batchName: string, shard: number, slots: number[], options: { withIndex: boolean }) {
    const wanted = new Set(slots);
    const pk = shardPk(batchName, shard);
    const byKey = wanted.size <= GET_BY_KEY_MAX;
    const items = byKey
      ? await this.batchGet([
          ...(options.withIndex ? [{ pk, sk: INDEX_KEY }] : []),
          ...[...wanted].map((slot) => ({ pk, sk: jobKey(slot) })),
        ])
      : await this.queryShard(batchName, shard);
    const index = items.find((item) => item.sk === INDEX_KEY);
    const jobs = new Map<number, StoredJob>();
    for (const slot of wanted) jobs.set(slot, { item: newEntry() });
    for (const item of items) {
      if (item.sk === INDEX_KEY) continue;
      const slot = slotOfKey(String(item.sk));
      if (wanted.has(slot)) jobs.set(slot, { item: toEntry(item) });
    }
    const indexRead = !byKey || options.withIndex;
    if (index)
      for (const [slot, job] of jobs) {
        const indexed = indexedOf(index, slot);
        if (indexed) job.indexed = indexed;
      }
    return { jobs, indexRead };
  }

  async writeEntries(write: ShardWrite): Promise<ShardWriteResult> {
    const pk = shardPk(write.batchName, write.shard);
    const written = await Promise.all(
      write.entries.map(({ slot, next, expectedVersion, indexOnly }) =>
        indexOnly
          ? true
          : this.conditionalPut(
              new PutCommand({
                TableName: this.tableName,
                Item: {
                  ...stripUndefined(next),
                  pk,
                  sk: jobKey(slot),
                  ...(write.ttl === undefined ? {} : { ttl: write.ttl }),
                },
                // A job's item may not exist yet (version 0: a job never written, or written at creation).
                ConditionExpression: expectedVersion === 0 ? "attribute_not_exists(sk) OR v = :v" : "v = :v",
                ExpressionAttributeValues: { ":v": expectedVersion },
              }),
            ),
      ),
    );
    const moves: (IndexMove & { position: number })[] = [];
    write.entries.forEach(({ slot, next, previousStatus, indexOnly }, position) => {
      if (!written[position]) return;
      if (indexOnly)
        moves.push({
          position,
          slot,
          code: indexOnly.code,
          start: indexOnly.start,
          started: indexOnly.start,
        });
      else if (previousStatus !== next.status) moves.push({ position, ...moveOf(slot, next) });
    });
    if (moves.length === 0) return { written, missing: false };
    const moved = await this.moveIndex(write.batchName, write.shard, moves);
    if (!moved) {
      // The batch was deleted meanwhile: the items just written belong to nothing.
      await this.batchWrite(
        write.entries
          .filter((entry, i) => written[i] && !entry.indexOnly)
          .map(({ slot }) => ({ DeleteRequest: { Key: { pk, sk: jobKey(slot) } } })),
      );
      return { written: written.map(() => false), missing: true };
    }
    const previousCodes: (number | undefined)[] = write.entries.map(() => undefined);
    for (const { position, slot } of moves) {
      // An index-only change is written when its code is; else the index held it, or something newer.
      if (write.entries[position]!.indexOnly) written[position] = moved.applied.has(slot);
      const old = moved.oldCodes.get(slot);
      if (moved.applied.has(slot) && typeof old === "number") previousCodes[position] = old;
    }
    const size = moved.after.size as number;
    return {
      written,
      previousCodes,
      missing: false,
      counts: {
        before: countsOfIndex(moved.before, size),
        after: countsOfIndex(moved.after, size),
        size,
        batchType: moved.after.batchType as BatchType | undefined,
        ...(moved.after.stopPolicy
          ? { stopPolicy: moved.after.stopPolicy as NonNullable<ShardWriteResult["counts"]>["stopPolicy"] }
          : {}),
        ...(typeof moved.after.canaryJobs === "number" ? { canaryJobs: moved.after.canaryJobs } : {}),
        ...(stringsOf(moved.after.dependents) ? { dependents: stringsOf(moved.after.dependents) } : {}),
      },
    };
  }

  async repairIndex(batchName: string, shard: number, entries: { slot: number; entry: JobEntry }[]) {
    if (entries.length > 0)
      await this.moveIndex(
        batchName,
        shard,
        entries.map(({ slot, entry }) => moveOf(slot, entry)),
      );
  }

  /**
   * Moves the jobs' codes forward in the shard's index: one UpdateItem, conditional on each code being
   * older than the new one (so a repeat or a late write changes nothing). When a condition fails, the
   * index is read and only the codes still older are written. The shard's last end moves in the same
   * write (conditional on being later); its first start is kept (`if_not_exists`, then corrected if an
   * earlier start arrives later). Returns the index before and after the write and the jobs whose codes
   * moved; undefined when the shard does not exist.
   */
  private async moveIndex(
    batchName: string,
    shard: number,
    moves: IndexMove[],
  ): Promise<IndexMoved | undefined> {
    let moved: IndexMoved | undefined;
    for (let from = 0; from < moves.length; from += INDEX_MOVES_PER_WRITE) {
      const chunk = await this.moveIndexOnce(
        batchName,
        shard,
        moves.slice(from, from + INDEX_MOVES_PER_WRITE),
      );
      if (!chunk) return undefined;
      moved = moved
        ? {
            before: moved.before,
            after: chunk.after,
            applied: new Set([...moved.applied, ...chunk.applied]),
            oldCodes: new Map([...moved.oldCodes, ...chunk.oldCodes]),
          }
        : chunk;
    }
    return moved;
  }

  /** One UpdateItem of the index (and its retries) for at most {@link INDEX_MOVES_PER_WRITE} jobs. */
  private async moveIndexOnce(
    batchName: string,
    shard: number,
    moves: IndexMove[],
  ): Promise<IndexMoved | undefined> {
    const key = { pk: shardPk(batchName, shard), sk: INDEX_KEY };
    const starts = moves.map((move) => move.started).filter((t): t is number => t !== undefined);
    const start = starts.length ? Math.min(...starts) : undefined;
    const ends = moves.map((move) => move.ended).filter((t): t is number => t !== undefined);
    // The shard's last end moves with the write that ends a job, so it is there as soon as the counts are.
    let end = ends.length ? Math.max(...ends) : undefined;
    let pending = moves;
    let before: Item | undefined;
    for (let attempt = 0; attempt < INDEX_ATTEMPTS && pending.length > 0; attempt++) {
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      const removes: string[] = [];
      const conditions = ["attribute_exists(pk)"];
      pending.forEach(({ slot, code, start: running }, i) => {
        names[`#k${i}`] = `k${slot}`;
        names[`#s${i}`] = `s${slot}`;
        values[`:c${i}`] = code;
        sets.push(`#k${i} = :c${i}`);
        conditions.push(`(attribute_not_exists(#k${i}) OR #k${i} < :c${i})`);
        if (running === undefined) removes.push(`#s${i}`);
        else {
          values[`:s${i}`] = running;
          sets.push(`#s${i} = :s${i}`);
        }
      });
      if (start !== undefined) {
        sets.push("tStart = if_not_exists(tStart, :start)");
        values[":start"] = start;
      }
      if (end !== undefined) {
        sets.push("tEnd = :end");
        values[":end"] = end;
        conditions.push("(attribute_not_exists(tEnd) OR tEnd < :end)");
      }
      try {
        const { Attributes } = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: `SET ${sets.join(", ")}${removes.length ? ` REMOVE ${removes.join(", ")}` : ""}`,
            ConditionExpression: conditions.join(" AND "),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: "ALL_OLD",
          }),
        );
        before = Attributes ?? {};
        break;
      } catch (error) {
        if (!isConditionalFailure(error)) throw error;
        const { Item } = await this.client.send(
          new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
        );
        if (!Item) return undefined;
        before = Item;
        pending = pending.filter(({ slot, code }) => {
          const current = Item[`k${slot}`];
          return typeof current !== "number" || current < code;
        });
        if (end !== undefined && typeof Item.tEnd === "number" && Item.tEnd >= end) end = undefined;
        if (pending.length === 0)
          return { before: Item, after: Item, applied: new Set(), oldCodes: new Map() };
      }
    }
    if (!before) throw new Error(`index of shard ${shard} of ${batchName} kept changing`);
    const after: Item = { ...before };
    for (const { slot, code } of pending) after[`k${slot}`] = code;
    if (end !== undefined) after.tEnd = end;
    if (start !== undefined) after.tStart ??= start;
    if (start !== undefined && typeof after.tStart === "number" && after.tStart > start) {
      // An earlier start recorded after a later one: the shard's start moves back to it.
      await this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: "SET tStart = :start",
          ConditionExpression: "tStart > :start",
          ExpressionAttributeValues: { ":start": start },
        }),
      );
      after.tStart = start;
    }
    const old = before;
    return {
      before,
      after,
      applied: new Set(pending.map(({ slot }) => slot)),
      oldCodes: new Map(pending.map(({ slot }) => [slot, old[`k${slot}`] as number | undefined])),
    };
  }

  /** A shard's index and its jobs' items: its partition from `I` to the last `J<slot>`. */
  private queryShard(batchName: string, shard: number): Promise<Item[]> {
    return this.queryPartition("pk = :pk AND sk BETWEEN :from AND :to", {
      ":pk": shardPk(batchName, shard),
      ":from": INDEX_KEY,
      ":to": "J~",
    });
  }

  private queryJobItems(batchName: string, shard: number): Promise<Item[]> {
    return this.queryPartition("pk = :pk AND begins_with(sk, :j)", {
      ":pk": shardPk(batchName, shard),
      ":j": "J",
    });
  }

  /** Every item a strongly consistent Query of one partition finds, page after page. */
  private async queryPartition(condition: string, values: Record<string, unknown>): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition,
          ExpressionAttributeValues: values,
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** BatchGetItem (strongly consistent) in chunks of 100, unprocessed keys retried with backoff. */
  private async batchGet(keys: Item[]): Promise<Item[]> {
    const chunks: Item[][] = [];
    for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT)
      chunks.push(keys.slice(start, start + BATCH_GET_LIMIT));
    const results = await Promise.all(
      chunks.map(async (chunk) => {
        const found: Item[] = [];
        let pending: Item[] = chunk;
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
          if (attempt > 0)
            await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25 * Math.random()));
          const result = await this.client.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
            }),
          );
          found.push(...((result.Responses?.[this.tableName] ?? []) as Item[]));
          pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
        }
        return found;
      }),
    );
    return results.flat();
  }

  async listGroups(batchName: string) {
    const items = await this.queryPartition("pk = :pk AND begins_with(sk, :g)", {
      ":pk": batchPk(batchName),
      ":g": "G#",
    });
    return items.map(toGroup);
  }

  async updateGroup(group: GroupRecord, expectedState: GroupState, expectedLease?: number) {
    const { batchName, index, ...fields } = group;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ":expected": expectedState };
    const sets: string[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: groupKey(index) },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: `attribute_exists(pk) AND #state = :expected${expectedLease === undefined ? "" : " AND #lease = :lease"}`,
        ExpressionAttributeNames: {
          ...names,
          "#state": "state",
          ...(expectedLease === undefined ? {} : { "#lease": "leaseUntil" }),
        },
        ExpressionAttributeValues:
          expectedLease === undefined ? values : { ...values, ":lease": expectedLease },
      }),
    );
  }

  async markBatchStopRequested(name: string, at: number) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(name), sk: RECORD_KEY },
        UpdateExpression: "SET stopRequested = if_not_exists(stopRequested, :at)",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  }

  async listBatches(component: string, batchType: BatchType, page: { limit?: number; nextToken?: string }) {
    const { items, nextToken } = await this.queryIndex("gsi1", "gsi1pk", listKey(component, batchType), page);
    return { items: items.map(toBatch), nextToken };
  }

  /** The active index projects keys only: it is a work list, the reconciler reads each batch itself. */
  async listActiveBatches(page: { limit?: number; nextToken?: string }) {
    const { items, nextToken } = await this.queryIndex("gsi2", "gsi2pk", ACTIVE, page);
    return { items: items.map((item) => String(item.pk).slice(2)), nextToken };
  }

  async markBatchSettled(name: string) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(name), sk: RECORD_KEY },
        UpdateExpression: "REMOVE gsi2pk, gsi2sk",
        ConditionExpression: "attribute_exists(pk)",
      }),
    );
  }

  async reopenBatch(batch: BatchRecord, at: number) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batch.name), sk: RECORD_KEY },
        UpdateExpression:
          "SET gsi2pk = :active, gsi2sk = :sk, restarted = :at REMOVE stopRequested, stopReason",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: {
          ":at": at,
          ":active": ACTIVE,
          ":sk": `${new Date(batch.created).toISOString()}#${batch.name}`,
        },
      }),
    );
    if (batch.stopPolicy && batch.batchType === "batch") {
      // A restarted batch is judged afresh: its shards' counts come back as they change.
      await this.conditional(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: batchPk(batch.name), sk: TRACKER_KEY },
          UpdateExpression: "SET failedBy = :empty, lostBy = :empty REMOVE breach",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":empty": {} },
        }),
      );
    }
  }

  async getTracker(batchName: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: TRACKER_KEY },
        ConsistentRead: true,
      }),
    );
    return Item ? toTracker(Item) : undefined;
  }

  /** ADD and DELETE of set members are idempotent, so a repeated or late call cannot count twice. */
  async markShard(batchName: string, shard: number, membership: ShardMembership) {
    const adds: string[] = [];
    const deletes: string[] = [];
    (membership.started ? adds : deletes).push("startedShards :s");
    (membership.ended ? adds : deletes).push("endedShards :s");
    const clauses = [];
    if (adds.length) clauses.push(`ADD ${adds.join(", ")}`);
    if (deletes.length) clauses.push(`DELETE ${deletes.join(", ")}`);
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: batchPk(batchName), sk: TRACKER_KEY },
          UpdateExpression: clauses.join(" "),
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":s": new Set([shard]) },
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes ? toTracker(Attributes) : undefined;
    } catch (error) {
      if (isConditionalFailure(error)) return undefined;
      throw error;
    }
  }

  recordBatchStatus(
    batchName: string,
    expectedSeq: number,
    next: { status: string; phase: Phase; event?: BatchStatusChange },
  ) {
    const names: Record<string, string> = {
      "#status": "status",
      "#phase": "phase",
      "#seq": "seq",
      "#published": "published",
    };
    const values: Record<string, unknown> = {
      ":expected": expectedSeq,
      ":seq": expectedSeq + 1,
      ":status": next.status,
      ":phase": next.phase,
    };
    const sets = ["#status = :status", "#phase = :phase", "#seq = :seq"];
    if (next.event) {
      // Pending until markBatchPublished: `published` stays behind `seq`.
      sets.push("#last = :last");
      names["#last"] = "last";
      values[":last"] = next.event;
    } else {
      sets.push("#published = :seq");
    }
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: TRACKER_KEY },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#seq = :expected AND #published = :expected",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  /**
   * Sets the shard's counts (not ADD: a repeat, or a write that was lost and comes again with a later
   * change of the shard, leaves them right), forward only (`lostBy` only grows while the batch runs).
   * One UpdateItem of the small tracker item (about 1 KB for 100 shards), returning the totals.
   */
  async recordShardEnds(batchName: string, shard: number, ends: EndCounts): Promise<EndCounts | undefined> {
    const key = { pk: batchPk(batchName), sk: TRACKER_KEY };
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: "SET failedBy.#s = :f, lostBy.#s = :l",
          ConditionExpression:
            "attribute_exists(failedBy) AND attribute_not_exists(breach) AND " +
            "(attribute_not_exists(lostBy.#s) OR lostBy.#s <= :l)",
          ExpressionAttributeNames: { "#s": shardMapKey(shard) },
          ExpressionAttributeValues: { ":f": ends.failed, ":l": ends.lost },
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes ? { failed: sumOf(Attributes.failedBy), lost: sumOf(Attributes.lostBy) } : undefined;
    } catch (error) {
      if (!isConditionalFailure(error)) throw error;
      // Breached already, or a newer count of this shard is there: the totals as they are.
      const { Item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      if (!Item || Item.failedBy === undefined || Item.breach !== undefined) return undefined;
      return { failed: sumOf(Item.failedBy), lost: sumOf(Item.lostBy) };
    }
  }

  async recordPolicyStop(batchName: string, at: number, reason: string): Promise<boolean> {
    const won = await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: TRACKER_KEY },
        UpdateExpression: "SET breach = :r",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(breach)",
        ExpressionAttributeValues: { ":r": reason },
      }),
    );
    if (!won) return false;
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: RECORD_KEY },
        UpdateExpression: "SET stopRequested = :at, stopReason = :r",
        ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(stopRequested)",
        ExpressionAttributeValues: { ":at": at, ":r": reason },
      }),
    );
  }

  async recordCanarySuccess(batchName: string, ordinal: number): Promise<number> {
    const { Attributes } = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: TRACKER_KEY },
        UpdateExpression: "ADD canaryOk :o",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":o": new Set([ordinal]) },
        ReturnValues: "ALL_NEW",
      }),
    );
    return numbersOf(Attributes?.canaryOk).length;
  }

  releaseCanary(batchName: string, at: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: RECORD_KEY },
        UpdateExpression: "SET canaryReleased = :at",
        ConditionExpression:
          "attribute_exists(pk) AND attribute_not_exists(canaryReleased) AND attribute_not_exists(stopRequested)",
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  }

  /**
   * String sets (ADD/DELETE are idempotent). The record's set lists every dependent; the index items'
   * only those waiting for single jobs, and a write of an index item returns them (writeEntries), so a
   * job's end finds its dependents with no extra read.
   */
  async addDependents(batchName: string, marks: string[], shards: number[] = []): Promise<boolean> {
    if (marks.length === 0) return true;
    if (!(await this.changeDependents("ADD", batchPk(batchName), RECORD_KEY, marks))) return false;
    for (const shard of shards)
      await this.changeDependents("ADD", shardPk(batchName, shard), INDEX_KEY, marks);
    return true;
  }

  async removeDependents(batchName: string, marks: string[], shards: number[] = []) {
    if (marks.length === 0) return;
    await this.changeDependents("DELETE", batchPk(batchName), RECORD_KEY, marks);
    for (const shard of shards)
      await this.changeDependents("DELETE", shardPk(batchName, shard), INDEX_KEY, marks);
  }

  /** Adds marks to, or deletes them from, an existing item's `dependents` set; false when it is gone. */
  private changeDependents(action: "ADD" | "DELETE", pk: string, sk: string, marks: string[]) {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk, sk },
        UpdateExpression: `${action} dependents :m`,
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":m": new Set(marks) },
      }),
    );
  }

  recordDependenciesMet(batchName: string, at: number): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: RECORD_KEY },
        UpdateExpression: "SET dependenciesMet = :at",
        ConditionExpression:
          "attribute_exists(pk) AND attribute_not_exists(dependenciesMet) AND " +
          "attribute_not_exists(dependencyUnmet) AND attribute_not_exists(stopRequested)",
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  }

  recordDependencyUnmet(batchName: string, at: number, message: string): Promise<boolean> {
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: RECORD_KEY },
        UpdateExpression: "SET stopRequested = :at, dependencyUnmet = :m",
        ConditionExpression:
          "attribute_exists(pk) AND attribute_not_exists(dependenciesMet) AND " +
          "attribute_not_exists(dependencyUnmet) AND attribute_not_exists(stopRequested)",
        ExpressionAttributeValues: { ":at": at, ":m": message },
      }),
    );
  }

  async markBatchPublished(batchName: string, seq: number) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: batchPk(batchName), sk: TRACKER_KEY },
        UpdateExpression: "SET #published = :seq",
        ConditionExpression: "#published < :seq",
        ExpressionAttributeNames: { "#published": "published" },
        ExpressionAttributeValues: { ":seq": seq },
      }),
    );
  }

  async queryListing(component: string, batchType: BatchType, query: ListingQuery) {
    const iso = (ms: number) => new Date(ms).toISOString();
    // Listing keys are `<created ISO>#<name>`; '~' sorts after every name character.
    const lower = query.createdFrom === undefined ? "0" : iso(query.createdFrom);
    const upper = query.createdBefore === undefined ? "9" : `${iso(query.createdBefore - 1)}#~`;
    const gsi1pk = listKey(component, batchType);
    let startKey: Item | undefined = query.after
      ? {
          gsi1pk,
          gsi1sk: query.after,
          pk: batchPk(query.after.slice(query.after.indexOf("#") + 1)),
          sk: RECORD_KEY,
        }
      : undefined;
    const listed: ListedBatch[] = [];
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :key AND gsi1sk BETWEEN :lower AND :upper",
          ExpressionAttributeValues: { ":key": gsi1pk, ":lower": lower, ":upper": upper },
          ScanIndexForward: query.ascending,
          Limit: query.limit - listed.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of result.Items ?? [])
        listed.push({ batch: toBatch(item), listingKey: String(item.gsi1sk) });
      startKey = result.LastEvaluatedKey;
    } while (startKey && listed.length < query.limit);
    return listed;
  }

  async findByDigest(component: string, batchType: BatchType, digest: string, limit: number) {
    const { Items } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": digestKey(component, batchType, digest) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) => String(item.batchName));
  }

  private async queryIndex(
    indexName: string,
    keyName: string,
    key: string,
    page: { limit?: number; nextToken?: string },
  ) {
    const items: Item[] = [];
    let startKey = page.nextToken
      ? (JSON.parse(Buffer.from(page.nextToken, "base64url").toString()) as Item)
      : undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: indexName,
          KeyConditionExpression: "#key = :key",
          ExpressionAttributeNames: { "#key": keyName },
          ExpressionAttributeValues: { ":key": key },
          ScanIndexForward: false,
          Limit: page.limit ? page.limit - items.length : undefined,
          ExclusiveStartKey: startKey,
        }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey && (!page.limit || items.length < page.limit));
    const result: Page<Item> = { items };
    if (startKey) result.nextToken = Buffer.from(JSON.stringify(startKey)).toString("base64url");
    return result;
  }

  async deleteBatch(name: string, shardCount: number, groupCount: number) {
    const keys: Item[] = [];
    for (let shard = shardCount - 1; shard >= 0; shard--) {
      for (const item of await this.queryJobItems(name, shard)) keys.push({ pk: item.pk, sk: item.sk });
      keys.push({ pk: shardPk(name, shard), sk: INDEX_KEY });
    }
    for (let group = 0; group < groupCount; group++) keys.push({ pk: batchPk(name), sk: groupKey(group) });
    keys.push({ pk: batchPk(name), sk: TRACKER_KEY });
    // The record goes last so a half-done delete can be finished by deleting again.
    keys.push({ pk: batchPk(name), sk: RECORD_KEY });
    await this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  private async conditionalPut(command: PutCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if (isConditionalFailure(error)) return false;
      throw error;
    }
  }

  private async batchWrite(requests: Record<string, unknown>[]) {
    for (let start = 0; start < requests.length; start += BATCH_WRITE_LIMIT) {
      let pending = requests.slice(start, start + BATCH_WRITE_LIMIT);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, 2 ** attempt * 25 * Math.random()));
        const result = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending as never } }),
        );
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }
}

const isConditionalFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as Error).name === "ConditionalCheckFailedException";

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
