import type { RetryStrategy } from "./types.js";

/** AWS's glob: `*` matches any run of characters (AWS documents it at the end; anywhere is accepted). */
export function globMatches(pattern: string, value: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === value;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!value.startsWith(first) || value.length < first.length + last.length) return false;
  if (!value.endsWith(last)) return false;
  let position = first.length;
  const end = value.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, position);
    if (found < 0 || found + middle.length > end) return false;
    position = found + middle.length;
  }
  return true;
}

export interface AttemptEnd {
  exitCode?: number;
  reason?: string;
  statusReason?: string;
}

/**
 * AWS Batch's retry decision after a failed attempt (job_retries.md): no more attempts => EXIT; no
 * evaluateOnExit rules => RETRY; otherwise the first rule whose given globs all match decides, and when
 * none matches the job is RETRIED. A missing exit code or reason is matched as the empty string.
 */
export function shouldRetry(
  strategy: RetryStrategy | undefined,
  attemptsMade: number,
  end: AttemptEnd,
): boolean {
  if (attemptsMade >= (strategy?.attempts ?? 1)) return false;
  for (const rule of strategy?.evaluateOnExit ?? []) {
    const checks: [string | undefined, string][] = [
      [rule.onExitCode, end.exitCode === undefined ? "" : String(end.exitCode)],
      [rule.onReason, end.reason ?? ""],
      [rule.onStatusReason, end.statusReason ?? ""],
    ];
    if (checks.every(([pattern, value]) => pattern === undefined || globMatches(pattern, value)))
      return rule.action.toUpperCase() === "RETRY";
  }
  return true;
}
