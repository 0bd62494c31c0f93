/** Job statuses and the per-run record: shared by types.ts and child-table.ts without an import cycle. */

export const STATUSES = [
  "SUBMITTED",
  "PENDING",
  "RUNNABLE",
  "STARTING",
  "RUNNING",
  "SUCCEEDED",
  "FAILED",
] as const;
export type JobStatus = (typeof STATUSES)[number];
/** Status codes (index into {@link STATUSES}); array children keep theirs in a Uint8Array. */
export const S = {
  SUBMITTED: 0,
  PENDING: 1,
  RUNNABLE: 2,
  STARTING: 3,
  RUNNING: 4,
  SUCCEEDED: 5,
  FAILED: 6,
} as const;
export const isDone = (code: number) => code >= S.SUCCEEDED;

export interface AttemptRecord {
  taskId: string;
  startedAt?: number;
  stoppedAt?: number;
  statusReason?: string;
  exitCode?: number;
  reason?: string;
  containers?: { name: string; exitCode?: number; reason?: string }[];
}

/** What changes per run: a plain job's own record, or an array child's entry in ChildTable (child-table.ts). */
export interface RunState {
  statusReason?: string;
  attempts: AttemptRecord[];
  /** The attempt in STARTING/RUNNING; moved to `attempts` when it stops (AWS lists finished attempts). */
  current?: AttemptRecord;
  isCancelled?: boolean;
  isTerminated?: boolean;
  /** The reason given to CancelJob/TerminateJob: the FAILED statusReason once the job stops. */
  stopReason?: string;
}
