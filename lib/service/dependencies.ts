import { InvalidRequestError } from "../api/errors.js";
import type { BatchScheduleDescription } from "../api/schemas.js";
import {
  type Dependency,
  dependentsOfJob,
  elementwiseDependencies,
  heldByDependencies,
  type Judgement,
  jobDependentMark,
  judge,
  MAX_DEPENDENTS,
  MAX_JOB_DEPENDENTS,
  type Outcome,
  outcomeOf,
} from "../domain/dependencies.js";
import { decide } from "../domain/job-machine.js";
import type { JobEntry } from "../domain/job-state.js";
import { isBatchName, parseJobName } from "../domain/names.js";
import { newRunEntry, nextRunAttempts } from "../domain/retry.js";
import { isFinal } from "../domain/status.js";
import {
  type BatchRecord,
  type BatchType,
  type GroupRecord,
  groupOfOrdinal,
  SHARD_SIZE,
  type ShardState,
  shardCountOf,
  shardOf,
} from "../store/job-store.js";
import { runConcurrently } from "./concurrency.js";
import {
  dependentNames,
  judgeDependent,
  onDependencyEnded,
  outcomeOfDependency,
} from "./dependency-check.js";
import type { BatchDeps, ReadDeps } from "./deps.js";
import { writeEntryWithRetry } from "./entries.js";
import { submitRun } from "./resubmit.js";

/**
 * Beyond Radix: jobs and batches that wait for others (lib/domain/dependencies.ts), tracked by the
 * scheduler itself. Where the state lives:
 * - the dependent's record: `dependsOn` (resolved at creation), `dependenciesMet` once its dependencies
 *   on whole batches and single jobs are met, `dependencyUnmet` (with a stop) once one never can be;
 *   its groups are created `held` and submitted only after `dependenciesMet`;
 * - each dependency's record: `dependents` (marks naming the dependents), read when it ends or is deleted;
 * - for dependents of single jobs (a single job, one job of a batch, elementwise): the same marks on the
 *   dependency's shard index items, which every write of a job's status change returns, so a job's end
 *   leads to its dependents with no extra read (lib/service/entries.ts ShardUpdate).
 *
 * Who decides: a batch's end (batch-status.ts, the phase `ended` being recorded) and a job's end in the
 * events path (record-state-change.ts) judge the dependents; creation judges the new dependent at once
 * (its dependencies may have ended already); the reconciler judges every waiting dependent again on each
 * pass, so a lost event or a crash delays a decision by at most one reconciler period. Each decision is
 * from the current state of the dependencies and recorded conditionally, so judging twice is harmless.
 *
 * Elementwise: once the whole dependencies are met, job i is submitted on its own (a plain AWS Batch
 * job, as run 2 of it, the way a retry is) as soon as job i of every elementwise dependency met its
 * condition, or ends Stopped when one never can. AWS Batch's N_TO_N is not used: it needs both arrays
 * submitted together and breaks when either is restarted.
 */

type Requested = NonNullable<BatchScheduleDescription["dependsOn"]>;

const cut = (text: string) => (text.length > 80 ? `${text.slice(0, 79)}…` : text);

/**
 * Resolves a create request's dependsOn: each name must be an existing batch, single job or job of a
 * batch (so a cycle, or a job waiting for itself, cannot be named). A 422 names the entry otherwise.
 */
export async function resolveDependencies(
  deps: ReadDeps,
  requested: Requested | undefined,
  dependent: { batchType: BatchType; size: number },
): Promise<Dependency[] | undefined> {
  if (!requested?.length) return undefined;
  const records = new Map<string, BatchRecord | undefined>();
  const resolved: Dependency[] = [];
  for (const [i, item] of requested.entries()) {
    const where = `dependsOn[${i}]`;
    const job = isBatchName(item.name) ? undefined : parseJobName(item.name);
    const batchName = job?.batchName ?? (isBatchName(item.name) ? item.name : undefined);
    if (!batchName)
      throw new InvalidRequestError(`${where}.name: '${cut(item.name)}' is not a job or batch name`);
    if (!records.has(batchName)) records.set(batchName, await deps.store.getBatch(batchName));
    const batch = records.get(batchName);
    if (!batch || (job && job.ordinal >= batch.size))
      throw new InvalidRequestError(
        `${where}.name: no job or batch named '${cut(item.name)}' exists (only existing jobs and batches can be waited for)`,
      );
    // A single job's batch name stands for its job.
    const ordinal = job?.ordinal ?? (batch.batchType === "job" ? 0 : undefined);
    if (item.elementwise) {
      if (dependent.batchType !== "batch")
        throw new InvalidRequestError(`${where}.elementwise: only a batch can wait job by job`);
      if (ordinal !== undefined)
        throw new InvalidRequestError(
          `${where}.elementwise: '${cut(item.name)}' is a job; elementwise needs a batch of the same size`,
        );
      if (batch.size !== dependent.size)
        throw new InvalidRequestError(
          `${where}.elementwise: batch ${batchName} has ${batch.size} jobs and this batch ${dependent.size}; elementwise needs the same number`,
        );
    }
    const marks = batch.dependents ?? [];
    if (dependentNames(marks).length >= MAX_DEPENDENTS)
      throw new InvalidRequestError(
        `${where}.name: ${cut(item.name)} already has ${MAX_DEPENDENTS} dependents, the most one job or batch can have`,
      );
    if (
      (item.elementwise || ordinal !== undefined) &&
      marks.filter((mark) => mark.includes("@")).length >= MAX_JOB_DEPENDENTS
    )
      throw new InvalidRequestError(
        `${where}.name: ${MAX_JOB_DEPENDENTS} dependents already wait for single jobs of ${batchName}, the most`,
      );
    resolved.push({
      name: item.name,
      condition: item.condition ?? "succeeded",
      batchName,
      ...(ordinal === undefined ? {} : { ordinal }),
      ...(item.elementwise ? { elementwise: true } : {}),
    });
  }
  return resolved;
}

/** The dependent's mark on a dependency, and the shards of the dependency whose index items carry it. */
function markOf(dependent: string, dependency: Dependency, size: number) {
  if (dependency.elementwise)
    return {
      mark: jobDependentMark(dependent, "*"),
      shards: Array.from({ length: shardCountOf(size) }, (_, shard) => shard),
    };
  if (dependency.ordinal !== undefined)
    return {
      mark: jobDependentMark(dependent, dependency.ordinal),
      shards: [shardOf(dependency.ordinal).shard],
    };
  return { mark: dependent, shards: [] };
}

/**
 * Creation's part, once the dependent is recorded (its groups held): its marks go on its dependencies,
 * then it is judged at once, since they may have ended already (before the marks were there). The
 * decision is recorded; the caller submits (or stops) it as usual. Returns the record as it is now.
 */
export async function startDependent(deps: BatchDeps, batch: BatchRecord): Promise<BatchRecord> {
  if (!batch.dependsOn?.length) return batch;
  for (const dependency of batch.dependsOn) {
    const { mark, shards } = markOf(batch.name, dependency, batch.size);
    await deps.store.addDependents(dependency.batchName, [mark], shards);
  }
  const judgement = await judgeDependent(deps, batch.name, { handOver: false });
  if (!judgement || judgement.state === "waiting") return batch;
  return (await deps.store.getBatch(batch.name)) ?? batch;
}

/**
 * The background submitter's part (submit.ts), for a dependent whose dependencies are met: its held
 * groups become pending (with a canary, only the canary's until it passes), or, elementwise, its jobs
 * whose partners are ready are submitted one by one. Returns the groups as they are now.
 */
export async function releaseDependent(
  deps: BatchDeps,
  batch: BatchRecord,
  groups: GroupRecord[],
): Promise<GroupRecord[]> {
  if (!batch.dependsOn?.length || batch.dependenciesMet === undefined || batch.stopRequested !== undefined)
    return groups;
  if (elementwiseDependencies(batch.dependsOn).length > 0) {
    await sweepElementwise(deps, batch, groups);
    return groups;
  }
  return Promise.all(
    groups.map(async (group) => {
      if (group.state !== "held") return group;
      if (batch.canary && batch.canaryReleased === undefined && group.offset >= batch.canary.jobs)
        return group;
      const pending: GroupRecord = { ...group, state: "pending" };
      return (await deps.store.updateGroup(pending, "held")) ? pending : group;
    }),
  );
}

/** Every held job of an elementwise dependent judged from its partners (whole batches read once). */
async function sweepElementwise(
  deps: BatchDeps,
  batch: BatchRecord,
  groups: GroupRecord[],
  shards?: readonly ShardState[],
) {
  const elementwise = elementwiseDependencies(batch.dependsOn ?? []);
  const held: number[] = [];
  for (const shard of shards ?? (await deps.store.listShards(batch.name, 0, shardCountOf(batch.size)))) {
    for (const [slot, entry] of shard.entries)
      if (heldByDependencies(batch, entry)) held.push(shard.index * SHARD_SIZE + slot);
  }
  if (held.length === 0) return;
  const partners = await Promise.all(elementwise.map((dependency) => statusesOf(deps, dependency.batchName)));
  await runConcurrently(held, SUBMIT_CONCURRENCY, async (ordinal) => {
    const outcomes = partners.map((statuses): Outcome | undefined => {
      if (!statuses) return "deleted";
      const status = statuses.get(ordinal) ?? "Waiting";
      return outcomeOf(status, isFinal(status));
    });
    await carryOutForJob(deps, batch, ordinal, judge(elementwise, outcomes, ordinal), groups);
  });
}

/** Parallel SubmitJob calls of released jobs (AWS Batch takes 50 a second per account). */
const SUBMIT_CONCURRENCY = 4;

/** The status of every job of a batch by ordinal; undefined when the batch does not exist. */
async function statusesOf(deps: ReadDeps, batchName: string) {
  const batch = await deps.store.getBatch(batchName);
  if (!batch) return undefined;
  const statuses = new Map<number, string>();
  for (const shard of await deps.store.listShards(batchName, 0, shardCountOf(batch.size)))
    for (const [slot, entry] of shard.entries) statuses.set(shard.index * SHARD_SIZE + slot, entry.status);
  return statuses;
}

const RELEASED_REASON = "its dependencies were met; submitted";

/** Job `ordinal` of an elementwise dependent: submitted (met), ended Stopped (unmet), or left waiting. */
async function carryOutForJob(
  deps: BatchDeps,
  batch: BatchRecord,
  ordinal: number,
  judgement: Judgement,
  groups: GroupRecord[],
) {
  if (judgement.state === "waiting") return;
  const now = deps.now();
  if (judgement.state === "unmet") {
    await writeEntryWithRetry(deps, batch.name, ordinal, (entry) =>
      heldByDependencies(batch, entry)
        ? decide(entry, { kind: "finish", status: "Stopped", message: judgement.message }, {}, now).next
        : undefined,
    );
    return;
  }
  const group = groupOfOrdinal(groups, ordinal);
  if (!group) return;
  // The job's own run, as a retry is: its group stays held, and the stop, deadline (from now) and
  // resumption rules of later runs apply (resubmitRequested lets the reconciler finish an interrupted one).
  let released: JobEntry | undefined;
  const outcome = await writeEntryWithRetry(deps, batch.name, ordinal, (entry) => {
    released = heldByDependencies(batch, entry)
      ? { ...newRunEntry(entry, now, RELEASED_REASON), since: now }
      : undefined;
    return released;
  });
  if (outcome !== "applied" || !released) return;
  try {
    await submitRun(deps, {
      batchName: batch.name,
      ordinal,
      run: released.run,
      attempts: nextRunAttempts(released, group.spec) ?? 1,
      group,
      leaseFrom: now,
      priority: released.priority,
    });
  } catch (error) {
    deps.logger.warn("released job not submitted; the reconciler resumes it", {
      batchName: batch.name,
      ordinal,
      error,
    });
  }
}

/**
 * The events path's part (record-state-change.ts): jobs of a shard ended, and the shard's index named
 * dependents of single jobs. A dependent of one of those jobs is judged as a whole; an elementwise one
 * has its job of the same ordinal judged. A few item reads per ended job that has dependents, nothing
 * for jobs without; a failure is logged and left to the reconciler.
 */
export async function onJobsEnded(
  deps: BatchDeps,
  batchName: string,
  marks: readonly string[],
  ended: readonly { ordinal: number; status: string }[],
  correlationId: string | undefined,
) {
  const records = new Map<string, BatchRecord | undefined>();
  const groups = new Map<string, GroupRecord[]>();
  for (const job of ended) {
    for (const name of dependentsOfJob(marks, job.ordinal)) {
      try {
        if (!records.has(name)) records.set(name, await deps.store.getBatch(name));
        const dependent = records.get(name);
        const dependsOn = dependent?.dependsOn ?? [];
        if (dependsOn.some((d) => !d.elementwise && d.batchName === batchName && d.ordinal === job.ordinal)) {
          await judgeDependent(deps, name, { handOver: true, correlationId });
        }
        if (dependent && dependsOn.some((d) => d.elementwise && d.batchName === batchName)) {
          if (!groups.has(name)) groups.set(name, await deps.store.listGroups(name));
          await judgeJob(deps, dependent, job.ordinal, groups.get(name)!, { batchName, status: job.status });
        }
      } catch (error) {
        deps.logger.error("dependent not judged; the reconciler repeats it", {
          batchName,
          dependent: name,
          error,
        });
      }
    }
  }
}

/**
 * One job of an elementwise dependent, judged from job `ordinal` of each elementwise dependency (the one
 * that just ended is known, so only others are read).
 */
async function judgeJob(
  deps: BatchDeps,
  batch: BatchRecord,
  ordinal: number,
  groups: GroupRecord[],
  ended: { batchName: string; status: string },
) {
  if (batch.dependenciesMet === undefined || batch.stopRequested !== undefined) return;
  const { shard, slot } = shardOf(ordinal);
  const entry = (await deps.store.getEntries(batch.name, shard, [slot])).get(slot);
  if (!entry || !heldByDependencies(batch, entry)) return;
  const elementwise = elementwiseDependencies(batch.dependsOn ?? []);
  const outcomes = await Promise.all(
    elementwise.map((dependency) =>
      dependency.batchName === ended.batchName
        ? outcomeOf(ended.status, true)
        : outcomeOfDependency(deps, dependency, ordinal),
    ),
  );
  await carryOutForJob(deps, batch, ordinal, judge(elementwise, outcomes, ordinal), groups);
}

/**
 * The reconciler's pass over a dependent it has read (`shards`: all of them): judges it again while it
 * waits, submits what a crash left held after its dependencies were met, and sweeps an elementwise one.
 */
export async function reconcileDependencies(
  deps: BatchDeps,
  batch: BatchRecord,
  groups: GroupRecord[],
  shards: readonly ShardState[],
) {
  if (!batch.dependsOn?.length || batch.stopRequested !== undefined) return;
  if (batch.dependenciesMet === undefined) {
    await judgeDependent(deps, batch.name, { handOver: true });
  } else if (elementwiseDependencies(batch.dependsOn).length > 0) {
    await sweepElementwise(deps, batch, groups, shards);
  } else if (groups.some((group) => group.state === "held")) {
    const released = await releaseDependent(deps, batch, groups);
    if (released.some((group) => group.state === "pending"))
      await deps.submitInBackground(batch.component, batch.name, deps.correlationId);
  }
}

/**
 * A batch or job was deleted: its marks leave its dependencies (best effort: a mark left behind only
 * costs a read when that dependency ends), and its own dependents are judged (a deleted dependency
 * meets no condition); elementwise ones are swept by the background submitter.
 */
export async function onDeleted(deps: BatchDeps, batch: BatchRecord) {
  for (const dependency of batch.dependsOn ?? []) {
    const { mark, shards } = markOf(batch.name, dependency, batch.size);
    try {
      await deps.store.removeDependents(dependency.batchName, [mark], shards);
    } catch (error) {
      deps.logger.warn("dependent mark not removed", { batchName: dependency.batchName, error });
    }
  }
  const marks = batch.dependents ?? [];
  if (marks.length === 0) return;
  await onDependencyEnded(deps, batch.name, { dependents: marks });
  for (const name of dependentNames(marks.filter((mark) => mark.endsWith("@*")))) {
    const dependent = await deps.store.getBatch(name);
    if (dependent?.dependenciesMet !== undefined && dependent.stopRequested === undefined)
      await deps.submitInBackground(dependent.component, name, deps.correlationId);
  }
}
