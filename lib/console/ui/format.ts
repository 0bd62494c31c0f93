import { DISPLAY_ORDER, JOB_STATUSES } from "../../domain/status.js";
import type { JobStatus } from "./api.js";

export { isFinal } from "../../domain/status.js";

/** Statuses as the filters offer them (the API's job statuses; batch statuses are a subset). */
export const STATUSES = JOB_STATUSES;

/** Segment order of a progress bar: ended first, then running (waiting is the rest of the bar). */
export const BAR_ORDER = DISPLAY_ORDER.filter((status) => status !== "Waiting");

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || Number.isNaN(seconds)) return "";
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** A time in the browser's zone, short: 2026-03-01 10:14:17. */
export function when(iso: string | null | undefined): string {
  if (!iso) return "";
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** Running time of a job (its first start to its end or now). */
export const runTime = (job: JobStatus) => job.phaseSeconds?.running;

/** "Why is it waiting": AWS Batch's status and reason while the job has not started. */
export function whyWaiting(job: JobStatus): string {
  if (job.status !== "Waiting" && job.status !== "Active") return "";
  return [job.batchJobStatus, job.statusReason].filter(Boolean).join(": ");
}

/** The last 8 characters of a job of a batch: what tells it apart from its siblings. */
export const shortJobName = (name: string) => name.slice(-8);

/** `datetime-local` input value (local time) → RFC 3339, or undefined. */
export function toRfc3339(local: string): string | undefined {
  if (!local) return undefined;
  const time = new Date(local);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}
