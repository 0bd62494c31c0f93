import { describe, expect, it } from "vitest";
import { breachOf, endCountsOf } from "#lib/domain/stop-policy.js";

describe("stopPolicy thresholds", () => {
  it("counts Failed and DeadlineExceeded as failed, and Stopped with them as lost", () => {
    expect(endCountsOf({ Failed: 2, DeadlineExceeded: 1, Stopped: 4, Succeeded: 9, Running: 3 })).toEqual({
      failed: 3,
      lost: 7,
    });
  });

  it("maxFailedJobs is breached only once more jobs than it failed", () => {
    expect(breachOf({ maxFailedJobs: 5 }, 50, { failed: 5, lost: 5 })).toBeUndefined();
    expect(breachOf({ maxFailedJobs: 5 }, 50, { failed: 6, lost: 6 })).toMatch(
      /^stopPolicy\.maxFailedJobs \(5\) exceeded: 6 jobs failed/,
    );
    expect(breachOf({ maxFailedJobs: 0 }, 50, { failed: 1, lost: 1 })).toBeDefined();
  });

  it("minSucceededJobs is breached as soon as too few jobs can still succeed", () => {
    expect(breachOf({ minSucceededJobs: 8 }, 10, { failed: 1, lost: 2 })).toBeUndefined();
    expect(breachOf({ minSucceededJobs: 8 }, 10, { failed: 0, lost: 3 })).toMatch(
      /^stopPolicy\.minSucceededJobs \(8\) can no longer be met: 3 of 10/,
    );
  });
});
