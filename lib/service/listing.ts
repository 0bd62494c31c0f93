import { InvalidRequestError } from "../api/errors.js";
import type { ListQuery } from "../api/list-query.js";
import type { BatchStatus, JobStatus } from "../api/schemas.js";
import type { JobEntry } from "../domain/job-state.js";
import type { BatchType, ListedBatch } from "../store/job-store.js";
import { SHARD_SIZE, shardCountOf } from "../store/job-store.js";
import { componentSettings, type ReadDeps } from "./deps.js";
import { findBatch, summariesOf } from "./queries.js";
import { batchStatusView, displayStatus, jobStatusView } from "./views.js";

/** Default page size when filters are given without `limit`. */
const DEFAULT_LIMIT = 100;
/** Index items read per index query; a page reads at most MAX_INDEX_READS of them, then hands a token. */
const INDEX_CHUNK = 100;
const MAX_INDEX_READS = 1000;

/** Where the next page starts: after the batch listed under `after`, at `ordinal` of batch `batch`. */
interface Cursor {
  after?: string;
  batch?: string;
  ordinal?: number;
}

const encode = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor)).toString("base64url");

function decode(token: string | undefined): Cursor {
  if (token === undefined) return {};
  try {
    const cursor = JSON.parse(Buffer.from(token, "base64url").toString()) as Cursor;
    if (cursor && typeof cursor === "object") return cursor;
  } catch {
    // falls through to the error below
  }
  throw new InvalidRequestError("query parameter nextToken is not one this API returned");
}

export interface ListPage<T> {
  items: T[];
  nextToken?: string;
}

const matchesBatch = (listed: ListedBatch, query: ListQuery, type: BatchType) =>
  (query.project === undefined || (listed.batch.projects ?? []).includes(query.project)) &&
  (type === "job" || query.batchId === undefined || listed.batch.batchId === query.batchId);

/**
 * Walks a component's listing index (created order, a Query within the time range, never a scan) from
 * the cursor, handing each batch to `visit` until it says the page is full. Returns the cursor of the
 * next page, or undefined at the end. Reads at most MAX_INDEX_READS index items a page, so a filter
 * that matches little still answers quickly (with a token to go on).
 */
async function walkListing(
  deps: ReadDeps,
  component: string,
  type: BatchType,
  query: ListQuery,
  cursor: Cursor,
  visit: (listed: ListedBatch, fromOrdinal: number) => Promise<number | "done">,
): Promise<Cursor | undefined> {
  let after = cursor.after;
  let reads = 0;
  for (;;) {
    const chunk = await deps.store.queryListing(component, type, {
      createdFrom: query.createdAfter,
      createdBefore: query.createdBefore,
      ascending: query.order === "asc",
      after,
      limit: INDEX_CHUNK,
    });
    for (const listed of chunk) {
      reads++;
      if (matchesBatch(listed, query, type)) {
        const from = cursor.batch === listed.batch.name ? (cursor.ordinal ?? 0) : 0;
        const stoppedAt = await visit(listed, from);
        // The page is full inside this batch: go on from that job of it next time.
        if (stoppedAt !== "done") return { after, batch: listed.batch.name, ordinal: stoppedAt };
      }
      after = listed.listingKey;
      if (reads >= MAX_INDEX_READS) return { after };
    }
    if (chunk.length < INDEX_CHUNK) return undefined;
  }
}

function jobMatches(entry: JobEntry, query: ListQuery, stopRequested: boolean, label?: string) {
  if (query.status && !query.status.includes(displayStatus(entry, stopRequested))) return false;
  return query.jobId === undefined || (entry.jobId ?? label) === query.jobId;
}

/**
 * GET /jobs with filters: single jobs by default; with `batchName` or `batchId`, the jobs of those
 * batches (in job order within each). Each matching job appears exactly once over the pages.
 */
export async function queryJobs(
  deps: ReadDeps,
  componentName: string,
  query: ListQuery,
): Promise<ListPage<JobStatus>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const items: JobStatus[] = [];
  const cursor = decode(query.nextToken);
  const visitJobs = async ({ batch }: ListedBatch, from: number): Promise<number | "done"> => {
    const stopped = batch.stopRequested !== undefined;
    const label = batch.batchType === "job" ? batch.batchId : undefined;
    // Shard by shard from `from`, so a page reads only the shards it walks through.
    for (let shard = Math.floor(from / SHARD_SIZE); shard < shardCountOf(batch.size); shard++) {
      const state = await deps.store.getShard(batch.name, shard);
      const first = Math.max(from, shard * SHARD_SIZE);
      const last = Math.min(batch.size, (shard + 1) * SHARD_SIZE);
      for (let ordinal = first; ordinal < last; ordinal++) {
        if (items.length >= limit) return ordinal;
        const entry = state?.entries.get(ordinal % SHARD_SIZE);
        if (entry && jobMatches(entry, query, stopped, label))
          items.push(jobStatusView(batch, ordinal, entry));
      }
    }
    return "done";
  };
  let next: Cursor | undefined;
  if (query.batchName !== undefined) {
    const batch = await findBatch(deps, componentName, query.batchName);
    const stoppedAt = await visitJobs({ batch, listingKey: "" }, cursor.ordinal ?? 0);
    next = stoppedAt === "done" ? undefined : { batch: batch.name, ordinal: stoppedAt };
  } else {
    const type = query.batchId === undefined ? "job" : "batch";
    next = await walkListing(deps, componentName, type, query, cursor, visitJobs);
  }
  return next ? { items, nextToken: encode(next) } : { items };
}

/** GET /batches with filters: batches (without their jobs, as Radix lists them), newest first by default. */
export async function queryBatches(
  deps: ReadDeps,
  componentName: string,
  query: ListQuery,
): Promise<ListPage<BatchStatus>> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  const component = componentSettings(deps, componentName);
  const items: BatchStatus[] = [];
  const next = await walkListing(
    deps,
    componentName,
    "batch",
    query,
    decode(query.nextToken),
    async ({ batch }) => {
      if (items.length >= limit) return 0;
      const view = batchStatusView(component, batch, await summariesOf(deps, batch), []);
      if (!query.status || query.status.includes(view.status as never)) items.push(view);
      return "done";
    },
  );
  return next ? { items, nextToken: encode(next) } : { items };
}
