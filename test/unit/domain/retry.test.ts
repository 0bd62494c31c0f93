import { describe, expect, it } from "vitest";
import { type Attempt, newEntry } from "#lib/domain/job-state.js";
import {
  failurePolicyAction,
  MAX_PLATFORM_RETRIES,
  nextRunAttempts,
  startNextRun,
  tallyFailures,
} from "#lib/domain/retry.js";

const failed = (exitCode: number | undefined, kind: "user" | "platform" = "user"): Attempt => ({
  start: 1,
  end: 2,
  exitCode,
  kind,
  run: 1,
});
const entryWith = (attempts: Attempt[]) => ({ ...newEntry(), status: "Failed" as const, attempts });
const policy = {
  rules: [
    { action: "FailJob", onExitCodes: { operator: "In", values: [42] } },
    { action: "Ignore", onExitCodes: { operator: "In", values: [143] } },
  ],
};

describe("retries beyond AWS Batch", () => {
  it("honours backoffLimit exactly, past Batch's 10 attempts", () => {
    const spec = { backoffLimit: 12 };
    expect(nextRunAttempts(entryWith(Array.from({ length: 10 }, () => failed(1))), spec)).toBe(3);
    expect(nextRunAttempts(entryWith(Array.from({ length: 13 }, () => failed(1))), spec)).toBeUndefined();
    expect(nextRunAttempts(entryWith([failed(1)]), { backoffLimit: 0 })).toBeUndefined();
  });

  it("does not spend the backoff budget on platform failures (Spot reclaim, host terminated)", () => {
    const attempts = [failed(undefined, "platform"), failed(undefined, "platform"), failed(1)];
    expect(tallyFailures(attempts, {})).toEqual({ counted: 1, platform: 2, failJob: false });
    expect(nextRunAttempts(entryWith(attempts), { backoffLimit: 1 })).toBe(1);
    const endless = Array.from({ length: MAX_PLATFORM_RETRIES + 1 }, () => failed(undefined, "platform"));
    expect(nextRunAttempts(entryWith(endless), { backoffLimit: 5 })).toBeUndefined();
  });

  it("applies Radix's failurePolicy: FailJob ends at once, Ignore does not count", () => {
    expect(failurePolicyAction({ failurePolicy: policy }, 42)).toBe("FailJob");
    expect(failurePolicyAction({ failurePolicy: policy }, 143)).toBe("Ignore");
    expect(failurePolicyAction({ failurePolicy: policy }, 1)).toBe("Count");
    expect(
      nextRunAttempts(entryWith([failed(42)]), { backoffLimit: 5, failurePolicy: policy }),
    ).toBeUndefined();
    expect(
      nextRunAttempts(entryWith([failed(143), failed(143), failed(143)]), {
        backoffLimit: 0,
        failurePolicy: policy,
      }),
    ).toBe(1);
  });

  it("a new run goes back to Waiting and keeps the attempts' history", () => {
    const entry = { ...entryWith([failed(1)]), exitCode: 1, ended: 2, v: 4 };
    const next = startNextRun(entry, 100);
    expect(next).toMatchObject({ status: "Waiting", run: 2, v: 5, resubmitRequested: 100 });
    expect(next.attempts).toHaveLength(1);
    expect(next.exitCode).toBeUndefined();
    expect(next.progress).toBeGreaterThan(entry.progress);
  });
});
