import type { BatchStatus, JobStatus } from "../api/schemas.js";
import { DISPLAY_ORDER } from "../domain/status.js";

/** "Succeeded 3, Failed 1, Running 2" (only statuses that have jobs). */
export function countsText(counts: Record<string, number>): string {
  const known = DISPLAY_ORDER.filter((status) => counts[status]);
  const other = Object.keys(counts).filter((status) => !DISPLAY_ORDER.includes(status) && counts[status]);
  return [...known, ...other].map((status) => `${status} ${counts[status]}`).join(", ") || "no jobs";
}

export function seconds(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return "";
  if (value < 60) return `${Math.round(value * 10) / 10}s`;
  const minutes = Math.floor(value / 60);
  if (minutes < 60) return `${minutes}m${String(Math.round(value % 60)).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

/** Left-aligned columns, two spaces apart. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const whyWaiting = (job: JobStatus) =>
  job.status === "Waiting" || job.status === "Active"
    ? [job.batchJobStatus, job.statusReason].filter(Boolean).join(": ")
    : "";

export function jobRows(jobs: JobStatus[], short: boolean): string[][] {
  return jobs.map((job) => [
    short ? job.name.slice(-8) : job.name,
    job.jobId ?? "",
    job.status,
    String(job.podStatuses.length),
    job.exitCode === undefined ? "" : String(job.exitCode),
    job.started ? seconds(job.phaseSeconds?.running) : "",
    whyWaiting(job),
  ]);
}

export const JOB_HEADER = ["JOB", "JOB ID", "STATUS", "ATTEMPTS", "EXIT", "DURATION", "WHY WAITING"];

export function describeJob(job: JobStatus): string {
  const fields: [string, string | number | undefined | null][] = [
    ["Job", job.name],
    ["Status", job.status],
    ["Job id", job.jobId],
    ["Batch", job.batchName !== job.name ? job.batchName : undefined],
    ["Message", job.message],
    ["Why waiting", whyWaiting(job) || undefined],
    ["Exit code", job.exitCode],
    ["Created", job.created],
    ["Started", job.started],
    ["Ended", job.ended],
    [
      "Waited/ran",
      job.phaseSeconds && `${seconds(job.phaseSeconds.waiting)} / ${seconds(job.phaseSeconds.running)}`,
    ],
    ["Project", job.project],
    ["Submitted by", job.submittedBy],
  ];
  const lines = fields
    .filter(([, value]) => value !== undefined && value !== null && value !== "")
    .map(([name, value]) => `${`${name}:`.padEnd(14)}${value}`);
  if (job.podStatuses.length > 0) {
    lines.push(
      "",
      table(
        ["ATTEMPT", "STATUS", "STARTED", "ENDED", "EXIT", "REASON", "WHOSE"],
        job.podStatuses.map((pod) => [
          String(pod.podIndex),
          pod.replicaStatus.status,
          pod.startTime ?? "",
          pod.endTime ?? "",
          pod.exitCode === undefined ? "" : String(pod.exitCode),
          pod.reason ?? "",
          pod.failureKind ?? "",
        ]),
      ),
    );
  }
  return lines.join("\n");
}

export function describeBatch(batch: BatchStatus): string {
  const lines = [
    `${"Batch:".padEnd(14)}${batch.name}`,
    `${"Status:".padEnd(14)}${batch.status}`,
    ...(batch.batchId ? [`${"Batch id:".padEnd(14)}${batch.batchId}`] : []),
    `${"Jobs:".padEnd(14)}${batch.totalJobs ?? batch.jobStatuses.length} (${countsText(batch.jobCounts ?? {})})`,
    `${"Created:".padEnd(14)}${batch.created ?? ""}`,
    ...(batch.started ? [`${"Started:".padEnd(14)}${batch.started}`] : []),
    ...(batch.ended ? [`${"Ended:".padEnd(14)}${batch.ended}`] : []),
  ];
  if (batch.jobStatuses.length > 0) lines.push("", table(JOB_HEADER, jobRows(batch.jobStatuses, true)));
  if (batch.nextToken) lines.push(`… more jobs: --next-token ${batch.nextToken}`);
  return lines.join("\n");
}
