import type { Effect } from "../domain/job-machine.js";
import type { GroupRecord } from "../store/job-store.js";
import type { BatchDeps } from "./deps.js";
import { submitRun } from "./resubmit.js";

/** Where a decision's effects apply: the job, its group, and when the decision was made. */
export interface EffectTarget {
  batchName: string;
  ordinal: number;
  group?: GroupRecord;
  /** When the decision was recorded (a new run's submission lease counts from it). */
  leaseFrom: number;
}

/**
 * Carries out what a decision (lib/domain/job-machine.ts) asked for, after its entry was written:
 * Batch calls and new runs. Product events of status changes are published by the write itself
 * (lib/service/entries.ts). A failure here is not lost: a new run keeps `resubmitRequested` on the job
 * and the reconciler resumes it; a terminate or cancel is asked again by the next event or repair.
 */
export async function carryOut(deps: BatchDeps, target: EffectTarget, effects: readonly Effect[]) {
  for (const effect of effects) {
    switch (effect.kind) {
      case "terminate":
        await deps.batch.terminate(effect.batchJobId, effect.reason);
        break;
      case "cancel":
        await deps.batch.cancel(effect.batchJobId, effect.reason);
        break;
      case "submitRun":
        if (!target.group) {
          deps.logger.error("new run decided without its group; the reconciler resumes it", { ...target });
          break;
        }
        await submitRun(deps, {
          batchName: target.batchName,
          ordinal: target.ordinal,
          run: effect.run,
          attempts: effect.attempts,
          group: target.group,
          leaseFrom: target.leaseFrom,
          priority: effect.priority,
        });
        break;
      case "publish":
        break;
    }
  }
}
