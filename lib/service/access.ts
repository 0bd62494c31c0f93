import { ForbiddenError } from "../api/errors.js";
import { firstForbidden, type ProjectAction } from "../domain/access.js";
import { parseJobName } from "../domain/names.js";
import type { BatchRecord } from "../store/job-store.js";
import type { ReadDeps } from "./deps.js";

/** The caller of one request, as the API identified it (undefined: anonymous). */
export interface Caller {
  principal?: string;
}

function refuse(caller: Caller, project: string, action: ProjectAction): never {
  const who = caller.principal ?? "an anonymous caller";
  const what = action === "submit" ? "submit to" : "stop or change jobs of";
  throw new ForbiddenError(`${who} may not ${what} project ${project}`);
}

/** Whether the caller may stop, restart, reprioritize or delete the batch's jobs. */
export function mayChange(deps: ReadDeps, caller: Caller, batch: BatchRecord): boolean {
  return firstForbidden(deps.runtime.access, batch.projects ?? [], caller.principal, "stop") === undefined;
}

/** 403 unless the caller may submit to every project the request names. */
export function authorizeSubmit(deps: ReadDeps, caller: Caller, projects: readonly string[]) {
  const forbidden = firstForbidden(deps.runtime.access, projects, caller.principal, "submit");
  if (forbidden !== undefined) refuse(caller, forbidden, "submit");
}

/**
 * 403 unless the caller may change the batch (or the batch of the job) named. An unknown name passes:
 * the route itself answers 404 for it, so access rules never reveal more than the route would.
 */
export async function authorizeChange(
  deps: ReadDeps,
  caller: Caller,
  target: { batchName?: string; jobName?: string },
) {
  if (deps.runtime.access.length === 0) return;
  const batchName = target.batchName ?? parseJobName(target.jobName ?? "")?.batchName;
  const batch = batchName ? await deps.store.getBatch(batchName) : undefined;
  if (!batch) return;
  const forbidden = firstForbidden(deps.runtime.access, batch.projects ?? [], caller.principal, "stop");
  if (forbidden !== undefined) refuse(caller, forbidden, "stop");
}
