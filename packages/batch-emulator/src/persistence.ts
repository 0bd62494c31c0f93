import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { rename, writeFile } from "node:fs/promises";
import { ChildTable } from "./child-table.js";
import type { DefinitionRecord } from "./definitions.js";
import { stateFile } from "./paths.js";
import type { JobRecord } from "./types.js";

export interface SavedState {
  version: 1;
  seq: number;
  definitions: DefinitionRecord[];
  jobs: JobRecord[];
}

/** A job as saved: no task spec (rebuilt from the definition), children as compact arrays. */
export type SavedJob = Omit<JobRecord, "array" | "task"> & { array?: ReturnType<ChildTable["toJSON"]> };

export interface LoadedState {
  seq: number;
  definitions: DefinitionRecord[];
  jobs: (Omit<JobRecord, "task"> & { task?: undefined })[];
}

/**
 * `<dataDir>/batch-state.json`: job definitions and jobs with their statuses and attempts. Saved
 * debounced after changes (write to a temporary file, then rename) and synchronously on close.
 */
export class StatePersistence {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly dataDir: string,
    private readonly snapshot: () => SavedState,
    private readonly debounceMs = 300,
  ) {}

  load(): LoadedState | undefined {
    const file = stateFile(this.dataDir);
    if (!existsSync(file)) return undefined;
    const saved = JSON.parse(readFileSync(file, "utf8")) as Omit<SavedState, "jobs"> & { jobs: SavedJob[] };
    return {
      ...saved,
      jobs: saved.jobs.map(({ array, ...job }) => ({
        ...job,
        ...(array ? { array: ChildTable.fromJSON(array) } : {}),
      })),
    };
  }

  saveSoon() {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.writing.then(() => this.writeAsync()).catch(() => undefined);
    }, this.debounceMs);
  }

  /** Waits for a write in progress, then writes the current state synchronously. */
  async flush() {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    const file = stateFile(this.dataDir);
    writeFileSync(`${file}.tmp`, this.serialize());
    renameSync(`${file}.tmp`, file);
    this.dirty = false;
  }

  private async writeAsync() {
    if (!this.dirty) return;
    this.dirty = false;
    const file = stateFile(this.dataDir);
    await writeFile(`${file}.tmp`, this.serialize());
    await rename(`${file}.tmp`, file);
  }

  private serialize() {
    const state = this.snapshot();
    return JSON.stringify({ ...state, jobs: state.jobs.map(({ task: _, ...job }) => job) });
  }
}
