import { jobName } from "./names.js";

/**
 * Beyond Radix: a job or batch that waits for other jobs and batches (Slurm `--dependency=afterok/
 * afterany/afternotok`, AWS Batch `dependsOn` with `N_TO_N`). The scheduler tracks dependencies itself
 * rather than through AWS Batch's `dependsOn`: a restart or a priority change replaces a job's AWS Batch
 * job id, and Batch's dependsOn names ids (at most 20 per job, AWS Batch service quotas).
 *
 * A dependency names something that already exists (a batch, a single job, or one job of a batch), so
 * the graph of dependencies only ever points back in time: a cycle, and a job waiting for itself, cannot
 * be expressed (a name not yet created is refused as unknown).
 */
export type DependencyCondition = "succeeded" | "ended" | "failed";

export const DEPENDENCY_CONDITIONS = ["succeeded", "ended", "failed"] as const;

/** A dependency as stored on the dependent's record: the name as asked, and what it resolved to. */
export interface Dependency {
  /** The job or batch name the caller gave. */
  name: string;
  condition: DependencyCondition;
  /** The batch the name belongs to (a single job is a batch of one). */
  batchName: string;
  /** A job: its ordinal in its batch. Absent: the whole batch (or, elementwise, each of its jobs). */
  ordinal?: number;
  /** Job i of the dependent waits for job i of this batch (both the same size). */
  elementwise?: boolean;
}

/** At most this many dependencies per request (AWS Batch also takes at most 20 per job). */
export const MAX_DEPENDENCIES = 20;
/**
 * At most this many dependents may wait for one job or batch, and of those at most
 * {@link MAX_JOB_DEPENDENTS} on its single jobs (elementwise, or one job of a batch): those are kept on
 * the small index item of each of its shards, which is written with every status change of its jobs, so
 * they must stay few for that write to stay at 1 WCU (lib/store/dynamo-job-store.ts).
 */
export const MAX_DEPENDENTS = 20;
export const MAX_JOB_DEPENDENTS = 5;

/** How a dependency ended: from its final status, or that it is gone. */
export type Outcome = "succeeded" | "failed" | "stopped" | "deleted";

/**
 * The outcome of a final status (a job's, or a batch's once all its jobs ended); undefined while it has
 * not ended. A batch status set by configured batchStatusRules that is neither Succeeded nor Stopped
 * counts as failed.
 */
export function outcomeOf(status: string, ended: boolean): Outcome | undefined {
  if (!ended) return undefined;
  if (status === "Succeeded") return "succeeded";
  if (status === "Stopped") return "stopped";
  return "failed";
}

/**
 * Whether an outcome meets a condition. `ended` is Slurm's afterany without cancellation: a stopped or
 * deleted dependency meets no condition (a stop is the caller's "do not go on"), and its dependents end
 * Stopped.
 */
export function meets(condition: DependencyCondition, outcome: Outcome): boolean {
  switch (condition) {
    case "succeeded":
      return outcome === "succeeded";
    case "failed":
      return outcome === "failed";
    case "ended":
      return outcome === "succeeded" || outcome === "failed";
  }
}

const OUTCOME_TEXT: Record<Outcome, string> = {
  succeeded: "ended Succeeded",
  failed: "ended Failed",
  stopped: "was stopped",
  deleted: "was deleted",
};

const CONDITION_TEXT: Record<DependencyCondition, string> = {
  succeeded: "to succeed",
  ended: "to end",
  failed: "to fail",
};

/** What a dependency is, in words: `batch X`, `job Y`, or job i of an elementwise batch. */
export function describeDependency(dependency: Dependency, ordinal?: number): string {
  if (dependency.elementwise)
    return ordinal === undefined
      ? `batch ${dependency.name} (job by job, elementwise)`
      : `job ${jobName(dependency.batchName, ordinal)} (elementwise, of batch ${dependency.batchName})`;
  return dependency.ordinal === undefined ? `batch ${dependency.name}` : `job ${dependency.name}`;
}

/** The message of a dependent ended Stopped because this dependency can no longer be met. */
export const unmetMessage = (dependency: Dependency, outcome: Outcome, ordinal?: number) =>
  `dependsOn: ${describeDependency(dependency, ordinal)} ${OUTCOME_TEXT[outcome]}, but this waited for ` +
  `it ${CONDITION_TEXT[dependency.condition]}; never started`;

export type Judgement = { state: "met" } | { state: "waiting" } | { state: "unmet"; message: string };

/** All dependencies met, one of them never can be, or still waiting: from each one's outcome so far. */
export function judge(
  dependencies: readonly Dependency[],
  outcomes: readonly (Outcome | undefined)[],
  ordinal?: number,
): Judgement {
  let waiting = false;
  for (const [i, dependency] of dependencies.entries()) {
    const outcome = outcomes[i];
    if (outcome === undefined) waiting = true;
    else if (!meets(dependency.condition, outcome))
      return { state: "unmet", message: unmetMessage(dependency, outcome, ordinal) };
  }
  return waiting ? { state: "waiting" } : { state: "met" };
}

/** Dependencies on whole batches and single jobs: they hold the whole dependent. */
export const wholeDependencies = (dependencies: readonly Dependency[]) =>
  dependencies.filter((dependency) => !dependency.elementwise);

export const elementwiseDependencies = (dependencies: readonly Dependency[]) =>
  dependencies.filter((dependency) => dependency.elementwise);

/**
 * The dependent's mark on a dependency's shard index items, for dependencies on single jobs: the
 * dependent's name and the job's ordinal (`*`: every job, elementwise). A job's end in that shard then
 * leads to the dependent with no lookup (lib/service/dependencies.ts).
 */
export const jobDependentMark = (dependent: string, ordinal: number | "*") => `${dependent}@${ordinal}`;

/** The dependents a job's end concerns, from its shard's marks. */
export function dependentsOfJob(marks: readonly string[], ordinal: number): string[] {
  const names = new Set<string>();
  for (const mark of marks) {
    const at = mark.lastIndexOf("@");
    const which = mark.slice(at + 1);
    if (which === "*" || Number(which) === ordinal) names.add(mark.slice(0, at));
  }
  return [...names];
}

/** What a job of a dependent that has not started yet waits for: shown as its statusReason. */
export function dependencyWaitReason(
  dependencies: readonly Dependency[],
  wholeMet: boolean,
  ordinal?: number,
): string {
  const waited = wholeMet ? elementwiseDependencies(dependencies) : dependencies;
  const parts = waited.map(
    (dependency) =>
      `${describeDependency(dependency, dependency.elementwise ? ordinal : undefined)} ${CONDITION_TEXT[dependency.condition]}`,
  );
  return `waiting for ${parts.join(" and ")} (dependsOn)`;
}

/**
 * A job of a dependent that dependencies still hold: never submitted, nothing asked of it since, and
 * either the dependent's whole dependencies are not met yet, or it waits job by job (elementwise).
 */
export function heldByDependencies(
  record: {
    dependsOn?: readonly Dependency[];
    dependenciesMet?: number;
    dependencyUnmet?: string;
    stopRequested?: number;
  },
  entry: { run: number; status: string; resubmitRequested?: number; stopRequested?: number },
): boolean {
  const dependencies = record.dependsOn ?? [];
  if (dependencies.length === 0 || record.dependencyUnmet !== undefined) return false;
  if (record.stopRequested !== undefined || entry.stopRequested !== undefined) return false;
  if (entry.run !== 1 || entry.status !== "Waiting" || entry.resubmitRequested !== undefined) return false;
  return record.dependenciesMet === undefined || elementwiseDependencies(dependencies).length > 0;
}
