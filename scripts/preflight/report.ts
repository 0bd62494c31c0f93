import type { CheckResult, Status } from "./checks.js";

const MARK: Record<Status, string> = { ok: "ok  ", warn: "WARN", fail: "FAIL", skip: "skip" };

/** One line per check: status, what, finding, and for a warning or failure the fix. */
export function formatResults(results: readonly CheckResult[]): string[] {
  return results.map(
    (result) =>
      `${MARK[result.status]}  ${result.check}: ${result.detail}${result.fix ? `. Fix: ${result.fix}` : ""}`,
  );
}

/** 1 when anything failed (the deploy or the first job would), else 0; warnings do not fail. */
export const exitCodeOf = (results: readonly CheckResult[]): number =>
  results.some((result) => result.status === "fail") ? 1 : 0;
