import {
  type Dependency,
  type Judgement,
  judge,
  type Outcome,
  outcomeOf,
  wholeDependencies,
} from "../domain/dependencies.js";
import { isFinal } from "../domain/status.js";
import { type BatchRecord, shardOf } from "../store/job-store.js";
import type { BatchDeps, ReadDeps } from "./deps.js";

/**
 * The light half of dependencies (lib/domain/dependencies.ts): judging a dependent's dependencies on
 * whole batches and single jobs from a few small reads, and recording the decision on its record. It
 * touches only the store and the background submitter, so the batch-status path can call it; what the
 * decision asks for is carried out by the background submitter (lib/service/dependencies.ts): a met
 * dependent's held groups are submitted, an unmet one is stopped (a recorded stop, carried out as any).
 */

/** What a dependency has come to so far: its batch's tracker, or its job's item (and its batch's record). */
export async function outcomeOfDependency(
  deps: ReadDeps,
  dependency: Dependency,
  ordinal = dependency.ordinal,
): Promise<Outcome | undefined> {
  if (ordinal === undefined) {
    const tracker = await deps.store.getTracker(dependency.batchName);
    if (!tracker) return (await deps.store.getBatch(dependency.batchName)) ? undefined : "deleted";
    return outcomeOf(tracker.status, tracker.phase === "ended");
  }
  const { shard, slot } = shardOf(ordinal);
  // The record first: a job item of a deleted batch reads as a new (Waiting) job.
  if (!(await deps.store.getBatch(dependency.batchName))) return "deleted";
  const entry = (await deps.store.getEntries(dependency.batchName, shard, [slot])).get(slot);
  return entry ? outcomeOf(entry.status, isFinal(entry.status)) : "deleted";
}

const judgeable = (batch: BatchRecord | undefined): batch is BatchRecord & { dependsOn: Dependency[] } =>
  batch?.dependsOn !== undefined &&
  batch.dependenciesMet === undefined &&
  batch.dependencyUnmet === undefined &&
  batch.stopRequested === undefined;

/**
 * Judges a dependent's dependencies on whole batches and single jobs (elementwise ones are judged job by
 * job) and records the outcome: met (its held groups may be submitted), or unmet (a stop of the whole
 * dependent with a message naming the dependency; it ends Stopped). The first to record wins, so the
 * events path, the creation and the reconciler may all judge the same dependent. With `handOver` the
 * background submitter carries the decision out; returns the judgement (undefined: nothing to judge).
 */
export async function judgeDependent(
  deps: BatchDeps,
  dependentName: string,
  options: { handOver: boolean; correlationId?: string } = { handOver: true },
): Promise<Judgement | undefined> {
  const batch = await deps.store.getBatch(dependentName);
  if (!judgeable(batch)) return undefined;
  const whole = wholeDependencies(batch.dependsOn);
  const outcomes = await Promise.all(whole.map((dependency) => outcomeOfDependency(deps, dependency)));
  const judgement = judge(whole, outcomes);
  let recorded = false;
  if (judgement.state === "met") {
    recorded = await deps.store.recordDependenciesMet(batch.name, deps.now());
    if (recorded) deps.logger.info("dependencies met; submitting", { batchName: batch.name });
  } else if (judgement.state === "unmet") {
    recorded = await deps.store.recordDependencyUnmet(batch.name, deps.now(), judgement.message);
    if (recorded)
      deps.logger.info("a dependency can no longer be met; stopped", {
        batchName: batch.name,
        message: judgement.message,
      });
  }
  if (recorded && options.handOver)
    await deps.submitInBackground(batch.component, batch.name, options.correlationId ?? deps.correlationId);
  return judgement;
}

/** The dependents named by marks (`<name>` or `<name>@<ordinal|*>`), each once. */
export const dependentNames = (marks: readonly string[]) => [
  ...new Set(marks.map((mark) => (mark.includes("@") ? mark.slice(0, mark.lastIndexOf("@")) : mark))),
];

/**
 * A batch ended (the batch-status path, when it records the phase `ended`), or was deleted: its
 * dependents are judged again. Its record is read again here (unless the caller has the dependents of a
 * deleted one): a dependent that registered while the batch was ending is then either seen here or sees
 * the end itself. One read of each dependent's record and of what it depends on: a check per ending
 * batch, never per job change. A failure is logged: the reconciler judges waiting dependents on every
 * pass.
 */
export async function onDependencyEnded(
  deps: BatchDeps,
  batchName: string,
  options: { dependents?: string[]; correlationId?: string } = {},
) {
  let marks: string[];
  try {
    marks = options.dependents ?? (await deps.store.getBatch(batchName))?.dependents ?? [];
  } catch (error) {
    deps.logger.error("dependents not read; the reconciler judges them", { batchName, error });
    return;
  }
  for (const name of dependentNames(marks)) {
    try {
      await judgeDependent(deps, name, { handOver: true, correlationId: options.correlationId });
    } catch (error) {
      deps.logger.error("dependent not judged; the reconciler repeats it", {
        batchName,
        dependent: name,
        error,
      });
    }
  }
}
