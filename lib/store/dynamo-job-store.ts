import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { Phase, ShardMembership } from "../domain/batch-phase.js";
import { type JobEntry, newEntry } from "../domain/job-state.js";
import { STORED_STATUSES } from "../domain/status.js";
import type { BatchStatusChange } from "../notify/product-events.js";
import {
  type BatchRecord,
  type BatchTracker,
  type BatchType,
  type EntryWrite,
  type GroupRecord,
  type GroupState,
  type JobStore,
  type ListedBatch,
  type ListingQuery,
  type Page,
  SHARD_SIZE,
  type ShardState,
  type ShardWrite,
} from "./job-store.js";

/**
 * DynamoDB single-table layout (partition key `pk`, sort key `sk`, GSI `gsi1` on `gsi1pk`/`gsi1sk`):
 * - `B#<batch>` / `S#00000`: the batch record AND shard 0 (so a single job is one item);
 * - `B#<batch>` / `S#<n>`: shard n, jobs with ordinals n*100 .. n*100+99, attributes `j<slot>`,
 *   counters `n_<Status>`, and `tStart`/`tEnd`;
 * - `B#<batch>` / `G#<n>`: AWS Batch submission n (plain or array job) of the batch;
 * - `B#<batch>` / `T`: the batch's status tracker (batches only): number sets `startedShards` and
 *   `endedShards`, the recorded `status`/`phase`/`seq`/`published`, the pending event `last`;
 * - `gsi1pk` = `L#<component>#<job|batch>`, `gsi1sk` = `<created ISO>#<name>` on shard 0: listing
 *   without a scan, newest first;
 * - `gsi2pk` = `ACTIVE`, `gsi2sk` = `<created ISO>#<name>` on shard 0 until every job of the batch has
 *   ended: a sparse index the reconciler walks instead of scanning.
 * No transactions: every change is one conditional write on one item (dynalite has no
 * TransactWriteItems, and a transaction costs twice the writes).
 */
const pk = (batchName: string) => `B#${batchName}`;
const shardKey = (index: number) => `S#${String(index).padStart(5, "0")}`;
const groupKey = (index: number) => `G#${String(index).padStart(5, "0")}`;
const listKey = (component: string, type: BatchType) => `L#${component}#${type}`;
const TRACKER_KEY = "T";
const countAttr = (status: string) => `n_${status}`;
const ACTIVE = "ACTIVE";
const digestKey = (component: string, type: BatchType, digest: string) => `D#${component}#${type}#${digest}`;

/** BatchWriteItem takes at most 25 requests; unprocessed ones are retried with backoff. */
const BATCH_WRITE_LIMIT = 25;

type Item = Record<string, unknown>;

function toShard(item: Item): ShardState {
  const entries = new Map<number, JobEntry>();
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(item)) {
    if (key.startsWith("j") && /^j\d+$/.test(key)) entries.set(Number(key.slice(1)), value as JobEntry);
  }
  for (const status of STORED_STATUSES) {
    const value = item[countAttr(status)];
    if (typeof value === "number") counts[status] = value;
  }
  return {
    index: Number(String(item.sk).slice(2)),
    ...(item.batchType === undefined ? {} : { batchType: item.batchType as BatchType }),
    entries,
    counts,
    started: item.tStart as number | undefined,
    ended: item.tEnd as number | undefined,
  };
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
  };
}

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
    const shardCount = Math.ceil(batch.size / SHARD_SIZE);
    for (let shard = 0; shard < shardCount; shard++) {
      const item: Item = { pk: pk(batch.name), sk: shardKey(shard), ttl: batch.ttl };
      const first = shard * SHARD_SIZE;
      const last = Math.min(batch.size, first + SHARD_SIZE);
      for (let ordinal = first; ordinal < last; ordinal++)
        item[`j${ordinal - first}`] = newEntry(jobIds[ordinal]);
      item[countAttr("Waiting")] = last - first;
      if (shard === 0) {
        Object.assign(item, batch, {
          gsi1pk: listKey(batch.component, batch.batchType),
          gsi1sk: `${new Date(batch.created).toISOString()}#${batch.name}`,
          gsi2pk: ACTIVE,
          gsi2sk: `${new Date(batch.created).toISOString()}#${batch.name}`,
        });
      }
      items.push(item);
    }
    for (const group of groups)
      items.push({ ...group, pk: pk(batch.name), sk: groupKey(group.index), ttl: batch.ttl });
    if (batch.digest !== undefined) {
      // The reuse index: one small item per digest version, newest first by its sort key.
      items.push({
        pk: digestKey(batch.component, batch.batchType, batch.digest),
        sk: `${new Date(batch.created).toISOString()}#${batch.name}`,
        batchName: batch.name,
        ttl: batch.ttl,
      });
    }
    if (batch.batchType === "batch") {
      items.push({
        pk: pk(batch.name),
        sk: TRACKER_KEY,
        ttl: batch.ttl,
        shardCount,
        status: "Waiting",
        phase: "waiting",
        seq: 0,
        published: 0,
      });
    }
    await this.batchWrite(items.map((Item) => ({ PutRequest: { Item } })));
  }

  async getBatch(name: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pk(name), sk: shardKey(0) },
        ConsistentRead: true,
      }),
    );
    if (!Item || Item.name === undefined) return undefined;
    return { batch: toBatch(Item), shard0: toShard(Item) };
  }

  async getShard(batchName: string, shard: number) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pk(batchName), sk: shardKey(shard) },
        ConsistentRead: true,
      }),
    );
    return Item ? toShard(Item) : undefined;
  }

  async listShards(batchName: string, fromShard: number, limit: number) {
    const shards: ShardState[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
          ExpressionAttributeValues: { ":pk": pk(batchName), ":from": shardKey(fromShard), ":to": "S#99999" },
          ConsistentRead: true,
          Limit: limit - shards.length,
          ExclusiveStartKey: startKey,
        }),
      );
      shards.push(...(page.Items ?? []).map(toShard));
      startKey = page.LastEvaluatedKey;
    } while (startKey && shards.length < limit);
    return shards;
  }

  async listGroups(batchName: string) {
    const groups: GroupRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :g)",
          ExpressionAttributeValues: { ":pk": pk(batchName), ":g": "G#" },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      groups.push(...(page.Items ?? []).map(toGroup));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return groups;
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
        Key: { pk: pk(batchName), sk: groupKey(index) },
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

  writeEntry(write: EntryWrite) {
    const { batchName, shard, started, ended, ...entry } = write;
    return this.writeEntries({ batchName, shard, started, ended, entries: [entry] });
  }

  async writeEntries(write: ShardWrite) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const conditions = ["attribute_exists(pk)"];
    const deltas = new Map<string, number>();
    write.entries.forEach((entry, i) => {
      names[`#j${i}`] = `j${entry.slot}`;
      values[`:e${i}`] = entry.next;
      values[`:v${i}`] = entry.expectedVersion;
      sets.push(`#j${i} = :e${i}`);
      conditions.push(`#j${i}.v = :v${i}`);
      if (entry.previousStatus !== entry.next.status) {
        deltas.set(entry.previousStatus, (deltas.get(entry.previousStatus) ?? 0) - 1);
        deltas.set(entry.next.status, (deltas.get(entry.next.status) ?? 0) + 1);
      }
    });
    const adds: string[] = [];
    [...deltas].forEach(([status, delta], i) => {
      if (delta === 0) return;
      names[`#n${i}`] = countAttr(status);
      values[`:d${i}`] = delta;
      adds.push(`#n${i} :d${i}`);
    });
    if (write.started !== undefined) {
      sets.push("tStart = :started");
      values[":started"] = write.started;
    }
    if (write.ended !== undefined) {
      sets.push("tEnd = :ended");
      values[":ended"] = write.ended;
    }
    return this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(write.batchName), sk: shardKey(write.shard) },
        UpdateExpression: `SET ${sets.join(", ")}${adds.length ? ` ADD ${adds.join(", ")}` : ""}`,
        ConditionExpression: conditions.join(" AND "),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async markBatchStopRequested(name: string, at: number) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(name), sk: shardKey(0) },
        UpdateExpression: "SET stopRequested = if_not_exists(stopRequested, :at)",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":at": at },
      }),
    );
  }

  async listBatches(component: string, batchType: BatchType, page: { limit?: number; nextToken?: string }) {
    const { items, nextToken } = await this.queryIndex("gsi1", "gsi1pk", listKey(component, batchType), page);
    return { items: items.map((item) => ({ batch: toBatch(item), shard0: toShard(item) })), nextToken };
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
        Key: { pk: pk(name), sk: shardKey(0) },
        UpdateExpression: "REMOVE gsi2pk, gsi2sk",
        ConditionExpression: "attribute_exists(pk)",
      }),
    );
  }

  async reopenBatch(batch: BatchRecord, at: number) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(batch.name), sk: shardKey(0) },
        UpdateExpression: "SET gsi2pk = :active, gsi2sk = :sk, restarted = :at REMOVE stopRequested",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: {
          ":at": at,
          ":active": ACTIVE,
          ":sk": `${new Date(batch.created).toISOString()}#${batch.name}`,
        },
      }),
    );
  }

  async getTracker(batchName: string) {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: pk(batchName), sk: TRACKER_KEY },
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
          Key: { pk: pk(batchName), sk: TRACKER_KEY },
          UpdateExpression: clauses.join(" "),
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":s": new Set([shard]) },
          ReturnValues: "ALL_NEW",
        }),
      );
      return Attributes ? toTracker(Attributes) : undefined;
    } catch (error) {
      if ((error as Error).name === "ConditionalCheckFailedException") return undefined;
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
        Key: { pk: pk(batchName), sk: TRACKER_KEY },
        UpdateExpression: `SET ${sets.join(", ")}`,
        ConditionExpression: "#seq = :expected AND #published = :expected",
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async markBatchPublished(batchName: string, seq: number) {
    await this.conditional(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: pk(batchName), sk: TRACKER_KEY },
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
          pk: pk(query.after.slice(query.after.indexOf("#") + 1)),
          sk: shardKey(0),
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
        listed.push({ batch: toBatch(item), shard0: toShard(item), listingKey: String(item.gsi1sk) });
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
    for (let shard = shardCount - 1; shard >= 0; shard--) keys.push({ pk: pk(name), sk: shardKey(shard) });
    for (let group = 0; group < groupCount; group++) keys.push({ pk: pk(name), sk: groupKey(group) });
    keys.push({ pk: pk(name), sk: TRACKER_KEY });
    // Shard 0 (the batch record) goes last so a half-done delete can be finished by deleting again.
    keys.push(keys.splice(shardCount - 1, 1)[0]!);
    await this.batchWrite(keys.map((Key) => ({ DeleteRequest: { Key } })));
  }

  private async conditional(command: UpdateCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if (
        error instanceof ConditionalCheckFailedException ||
        (error as Error).name === "ConditionalCheckFailedException"
      ) {
        return false;
      }
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
