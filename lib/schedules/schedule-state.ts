/** The last run of one schedule: what Forbid and Replace look at, and what makes a repeated delivery a no-op. */
export interface ScheduleRun {
  /** The scheduled time (epoch ms) this run was for. */
  scheduledAt: number;
  /** The job the schedule last created (kept when a run is skipped). */
  jobName?: string;
  outcome: "created" | "skipped";
}

/** Port: one small record per schedule (DynamoDB in AWS and on the local stack). */
export interface ScheduleStateStore {
  last(component: string, schedule: string): Promise<ScheduleRun | undefined>;
  /** Records `run` unless a run for the same or a later scheduled time is recorded already (then false). */
  record(component: string, schedule: string, run: ScheduleRun): Promise<boolean>;
}

/** In memory, for unit tests of the use case (the Dynamo adapter is tested against dynalite). */
export class MemoryScheduleState implements ScheduleStateStore {
  private readonly runs = new Map<string, ScheduleRun>();

  async last(component: string, schedule: string) {
    return this.runs.get(`${component}#${schedule}`);
  }

  async record(component: string, schedule: string, run: ScheduleRun) {
    const key = `${component}#${schedule}`;
    const last = this.runs.get(key);
    if (last && last.scheduledAt >= run.scheduledAt) return false;
    this.runs.set(key, run);
    return true;
  }
}
