import type { StatusCounts } from "../domain/aggregate.js";
import type { Phase, ShardMembership } from "../domain/batch-phase.js";
import type { Dependency } from "../domain/dependencies.js";
import type { EffectiveSpec } from "../domain/effective-spec.js";
import type { IndexedState } from "../domain/index-state.js";
import type { JobEntry } from "../domain/job-state.js";
import type { EndCounts, StopPolicy } from "../domain/stop-policy.js";
import type { BatchStatusChange } from "../notify/product-events.js";

/**
 * Jobs per shard. A shard is one DynamoDB partition key holding one small item per job (written on its
 * own, so a write costs by the size of one job, not of a hundred) and one index item with each job's
 * status and version, from which its counts come (lib/store/dynamo-job-store.ts).
 */
export const SHARD_SIZE = 100;

export const shardOf = (ordinal: number) => ({
  shard: Math.floor(ordinal / SHARD_SIZE),
  slot: ordinal % SHARD_SIZE,
});

/** Shard items of a batch of `size` jobs. */
export const shardCountOf = (size: number) => Math.ceil(size / SHARD_SIZE);

export type BatchType = "job" | "batch";

/** A batch (a single job is a batch of one). Times are epoch milliseconds. */
export interface BatchRecord {
  name: string;
  component: string;
  batchType: BatchType;
  /** The caller's label: `batchId` for a batch, `jobId` for a single job. */
  batchId?: string;
  created: number;
  size: number;
  groupCount: number;
  payloadKey?: string;
  stopRequested?: number;
  /** Epoch seconds after which DynamoDB may delete the records. */
  ttl?: number;
  /** Projects (fair-share identifiers) the batch's jobs were submitted to, when they named one. */
  projects?: string[];
  /** Those of its projects capped by projects[].maxRunningJobs, with their caps (for why a job waits). */
  projectCaps?: Record<string, number>;
  /** The caller that created it (IAM principal ARN in AWS, the token's principal locally). */
  submittedBy?: string;
  /** Seconds after the batch ended that it is deleted, instead of the retention rule (Run:AI ttlAfterFinish). */
  ttlAfterFinish?: number;
  /** Digest of the effective specs and payloads (reuse: find an earlier identical Succeeded one). */
  digest?: string;
  /** When jobs of it were last restarted (the background submitter then also submits their new runs). */
  restarted?: number;
  /** Beyond Radix: stop the rest of the batch once it can no longer end well (lib/domain/stop-policy.ts). */
  stopPolicy?: StopPolicy;
  /** Why the scheduler itself stopped the batch (a stopPolicy threshold): it then ends Failed with this message. */
  stopReason?: string;
  /** Beyond Radix: the batch's canary as asked, with `jobs` resolved (lib/domain/canary.ts). */
  canary?: { jobs: number; percent?: number };
  /** When every canary job had succeeded and the rest of the batch was released for submission. */
  canaryReleased?: number;
  /** Beyond Radix: at most this many of the batch's jobs run at once (lib/service/max-parallel.ts). */
  maxParallel?: number;
  /** Beyond Radix: what it waits for (lib/domain/dependencies.ts); its groups are `held` until then. */
  dependsOn?: Dependency[];
  /** When every dependency on a whole batch or job was met (elementwise ones are then judged job by job). */
  dependenciesMet?: number;
  /**
   * A dependency that can no longer be met: the batch was stopped with this message (it ends Stopped).
   * Kept when the batch is restarted, which runs it whatever its dependencies are.
   */
  dependencyUnmet?: string;
  /**
   * Marks of the jobs and batches that wait for this one: a dependent's name, or `<name>@<ordinal|*>`
   * when it waits for single jobs of it (lib/domain/dependencies.ts jobDependentMark).
   */
  dependents?: string[];
}

/**
 * `held`: after a batch's canary, submitted (made `pending`) only once every canary job succeeded; or, for
 * a batch with dependencies, until they are met (lib/service/dependencies.ts).
 */
export type GroupState = "held" | "pending" | "submitting" | "submitted" | "failed";

/** One AWS Batch submission of a batch: a plain job or an array job. */
export interface GroupRecord {
  batchName: string;
  index: number;
  offset: number;
  size: number;
  spec: EffectiveSpec;
  state: GroupState;
  run: number;
  batchJobId?: string;
  jobDefinition?: string;
  submittedAt?: number;
  /** While `submitting`: until when the submitter that took the intent may still call SubmitJob. */
  leaseUntil?: number;
  error?: string;
}

/** The submission (plain or array job) a job belongs to: its ordinal lies in the group's range. */
export const groupOfOrdinal = (groups: readonly GroupRecord[], ordinal: number): GroupRecord | undefined =>
  groups.find((group) => ordinal >= group.offset && ordinal < group.offset + group.size);

/** What a shard's index item tells without reading its jobs: per-status counts and start / end times. */
export interface ShardSummary {
  index: number;
  /** Jobs in the shard (SHARD_SIZE, fewer in the last shard). */
  size: number;
  counts: Partial<StatusCounts>;
  /** The earliest start recorded in the shard. */
  started?: number;
  /** The latest end of a job of the shard. */
  ended?: number;
}

/** A shard with its jobs: up to SHARD_SIZE job entries by slot, and its summary. */
export interface ShardState extends ShardSummary {
  /** The batch's type (written on every shard, so the events path knows it without reading the batch). */
  batchType?: BatchType;
  entries: Map<number, JobEntry>;
}

/** One job's entry to write, conditional on the version it was read at. */
export interface EntryWrite {
  slot: number;
  next: JobEntry;
  /** Version the write is conditional on (the entry's `v` when it was read). */
  expectedVersion: number;
  /** The status the job had when it was read (its index code moves when this differs). */
  previousStatus: string;
  /**
   * A status-only change (lib/domain/index-state.ts): written to the shard's index alone, conditional on
   * the job's code there being older; the job's item is left as it is.
   */
  indexOnly?: IndexedState;
}

/** A job as stored: its item (new when never written) and, when the index was read, what it holds of it. */
export interface StoredJob {
  item: JobEntry;
  indexed?: IndexedState;
}

/** Entries of one shard, each written with its own conditional write, then the shard's index once. */
export interface ShardWrite {
  batchName: string;
  shard: number;
  entries: EntryWrite[];
  /** Epoch seconds after which DynamoDB may delete a job item this write creates. */
  ttl?: number;
}

export interface ShardWriteResult {
  /**
   * Per entry of the write: whether it was written (false: its version changed meanwhile; for an
   * index-only entry, the index already held a newer or the same code).
   */
  written: boolean[];
  /** Per entry: its code in the index before this write, when its code moved (undefined: absent). */
  previousCodes?: (number | undefined)[];
  /** The shard no longer exists (its batch was deleted). */
  missing: boolean;
  /** The shard's counts before and after this write (when some status changed). */
  counts?: {
    before: Partial<StatusCounts>;
    after: Partial<StatusCounts>;
    size: number;
    batchType?: BatchType;
    /** The batch's stopPolicy and size, kept on every shard's index so the events path needs no batch read. */
    stopPolicy?: StopPolicy & { batchSize: number };
    /** On shards holding canary jobs: how many jobs the canary has (its ordinals are 0 .. canaryJobs-1). */
    canaryJobs?: number;
    /** Marks of dependents waiting for single jobs of this shard (lib/domain/dependencies.ts). */
    dependents?: string[];
  };
}

/** A range of a component's listing (created time order) and where to resume it. */
export interface ListingQuery {
  /** Only batches created at or after this time (epoch ms). */
  createdFrom?: number;
  /** Only batches created before this time (epoch ms). */
  createdBefore?: number;
  ascending: boolean;
  /** Resume after the batch with this listing key (`listingKey` of an earlier item). */
  after?: string;
  limit: number;
}

export interface ListedBatch {
  batch: BatchRecord;
  /** The batch's position in its listing, to resume after it. */
  listingKey: string;
}

/**
 * A batch's status tracker (batches only: a single job's status is its job's). It holds the shards that
 * have started and those that have ended, and the batch status last recorded with its event until that
 * is known to be published (lib/service/batch-status.ts). A small item of its own rather than
 * attributes of shard 0: it is written a few times per shard, and a write costs by the size of the item,
 * which for shard 0 is tens of KB.
 */
export interface BatchTracker {
  shardCount: number;
  startedShards: number[];
  endedShards: number[];
  /** The batch status last recorded (published, or about to be). */
  status: string;
  phase: Phase;
  /** Bumped with every recorded status or phase: the `sequence` of Batch Status Change events. */
  seq: number;
  /** The highest `seq` whose event is known to be published; below `seq` while `last` is pending. */
  published: number;
  /** The event of the last recorded status change (an outbox of one while it is pending). */
  last?: BatchStatusChange;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/**
 * Port: where jobs and batches live. Every method is a constant number of item operations per shard it
 * names; nothing reads a whole batch unless asked to (`listShards`, `getSummaries`).
 */
export interface JobStore {
  /** Records a new batch with its groups and its shards (all jobs Waiting). */
  createBatch(batch: BatchRecord, groups: GroupRecord[], jobIds: (string | undefined)[]): Promise<void>;
  getBatch(name: string): Promise<BatchRecord | undefined>;
  /** A shard with all its jobs; undefined when it does not exist. */
  getShard(batchName: string, shard: number): Promise<ShardState | undefined>;
  /** Shards in order with their jobs, starting at `fromShard`, at most `limit` of them. */
  listShards(batchName: string, fromShard: number, limit: number): Promise<ShardState[]>;
  /** The summaries (counts, times) of shards `0 .. shardCount-1`, from their small index items only. */
  getSummaries(batchName: string, shardCount: number): Promise<ShardSummary[]>;
  /**
   * Some jobs of one shard as a reader sees them, their items moved forward by their index codes (a job
   * never written is returned as new: Waiting, version 0).
   */
  getEntries(batchName: string, shard: number, slots: number[]): Promise<Map<number, JobEntry>>;
  /**
   * Some jobs of one shard as stored: their items and, with `withIndex` (or when many are read: one
   * Query of the shard reads its index too), their index codes. `indexRead` says whether it was read.
   */
  readJobs(
    batchName: string,
    shard: number,
    slots: number[],
    options: { withIndex: boolean },
  ): Promise<{ jobs: Map<number, StoredJob>; indexRead: boolean }>;
  /** Writes entries of one shard (each conditional on its version), then moves the shard's index. */
  writeEntries(write: ShardWrite): Promise<ShardWriteResult>;
  /**
   * Makes the shard's index show these entries' statuses where it shows an older version (after a
   * crash between a job's write and its index's, found by a redelivery or the reconciler).
   */
  repairIndex(batchName: string, shard: number, entries: { slot: number; entry: JobEntry }[]): Promise<void>;
  listGroups(batchName: string): Promise<GroupRecord[]>;
  /**
   * Conditional on the group's current state (and, when given, its lease); false when it changed.
   */
  updateGroup(group: GroupRecord, expectedState: GroupState, expectedLease?: number): Promise<boolean>;
  markBatchStopRequested(name: string, at: number): Promise<void>;
  /** Batches of a component and type, newest first. */
  listBatches(
    component: string,
    batchType: BatchType,
    page: { limit?: number; nextToken?: string },
  ): Promise<Page<BatchRecord>>;
  /** Batches of a component and type in created order within a time range (the listing index, no scan). */
  queryListing(component: string, batchType: BatchType, query: ListingQuery): Promise<ListedBatch[]>;
  deleteBatch(name: string, shardCount: number, groupCount: number): Promise<void>;
  /** Names of batches recorded with this reuse digest, newest first (some may be deleted since). */
  findByDigest(component: string, batchType: BatchType, digest: string, limit: number): Promise<string[]>;
  /** Batches that may still have jobs without a final status (a sparse index: ended ones leave it). */
  listActiveBatches(page: { limit?: number; nextToken?: string }): Promise<Page<string>>;
  /** Takes an ended batch out of the active index. */
  markBatchSettled(name: string): Promise<void>;
  /** A restart at `at`: the batch is active again (back in the active index) and no longer being stopped. */
  reopenBatch(batch: BatchRecord, at: number): Promise<void>;
  /** The batch's status tracker; undefined for a single job (or a batch recorded without one). */
  getTracker(batchName: string): Promise<BatchTracker | undefined>;
  /** Records a shard's membership in the tracker's shard sets (idempotent); the tracker after it. */
  markShard(batchName: string, shard: number, membership: ShardMembership): Promise<BatchTracker | undefined>;
  /**
   * Records a new batch status and phase, conditional on the tracker's `seq` still being `expectedSeq`
   * with nothing pending; with `event` the change is pending until {@link markBatchPublished}.
   */
  recordBatchStatus(
    batchName: string,
    expectedSeq: number,
    next: { status: string; phase: Phase; event?: BatchStatusChange },
  ): Promise<boolean>;
  markBatchPublished(batchName: string, seq: number): Promise<void>;
  /**
   * A batch with a stopPolicy: records a shard's counts of failed and lost jobs in the tracker (forward
   * only) and returns the batch's totals; undefined once the policy was breached (or no tracker).
   */
  recordShardEnds(batchName: string, shard: number, ends: EndCounts): Promise<EndCounts | undefined>;
  /**
   * Records a stopPolicy breach: the first caller wins (true) and the batch's record gets stopRequested
   * and stopReason, unless a stop was already asked.
   */
  recordPolicyStop(batchName: string, at: number, reason: string): Promise<boolean>;
  /** A canary job succeeded: adds it to the tracker's set (idempotent); how many have succeeded. */
  recordCanarySuccess(batchName: string, ordinal: number): Promise<number>;
  /** Marks the canary passed (first caller wins, and only while no stop was asked). */
  releaseCanary(batchName: string, at: number): Promise<boolean>;
  /**
   * Adds dependents' marks to a batch's record (idempotent: a set); false when the batch does not exist.
   * With `shards`, the marks also go on those shards' index items (dependents of single jobs).
   */
  addDependents(batchName: string, marks: string[], shards?: number[]): Promise<boolean>;
  /** Takes dependents' marks off a batch's record and those shards' index items (a dependent deleted). */
  removeDependents(batchName: string, marks: string[], shards?: number[]): Promise<void>;
  /** Records that the batch's dependencies are met (first caller wins; not once stopped or unmet). */
  recordDependenciesMet(batchName: string, at: number): Promise<boolean>;
  /**
   * Records a dependency that can no longer be met: a stop of the batch with this message (first caller
   * wins; not once stopped or met).
   */
  recordDependencyUnmet(batchName: string, at: number, message: string): Promise<boolean>;
}
