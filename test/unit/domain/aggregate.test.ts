import { describe, expect, it } from "vitest";
import { batchStatusOf, emptyCounts, type StatusCounts } from "#lib/domain/aggregate.js";

const counts = (values: Partial<StatusCounts>) => ({ ...emptyCounts(), ...values });
const size = (values: Partial<StatusCounts>) => Object.values(values).reduce((a, b) => a + (b ?? 0), 0);
const status = (values: Partial<StatusCounts>, stopRequested = false) =>
  batchStatusOf({ counts: counts(values), size: size(values), stopRequested });

describe("batch status from job counts", () => {
  it.each([
    [{ Waiting: 3 }, "Waiting"],
    [{ Waiting: 2, Running: 1 }, "Running"],
    [{ Waiting: 1, Succeeded: 2 }, "Running"],
    [{ Failed: 1, Running: 1 }, "Running"],
    [{ Succeeded: 3 }, "Succeeded"],
    [{ Succeeded: 2, Failed: 1 }, "Failed"],
    [{ Succeeded: 2, DeadlineExceeded: 1 }, "Failed"],
    [{ Succeeded: 2, Stopped: 1 }, "Stopped"],
  ] as const)("%j is %s", (values, expected) => {
    expect(status(values)).toBe(expected);
  });

  it("after a stop it is Stopping until every job ended, then Stopped", () => {
    expect(status({ Running: 1, Stopped: 1 }, true)).toBe("Stopping");
    expect(status({ Succeeded: 1, Stopped: 1 }, true)).toBe("Stopped");
  });

  it("configured rules win, first match first", () => {
    const rules = [
      { condition: "Any" as const, operator: "In" as const, jobStatuses: ["Failed"], batchStatus: "Failed" },
      {
        condition: "All" as const,
        operator: "In" as const,
        jobStatuses: ["Succeeded", "Stopped"],
        batchStatus: "Succeeded",
      },
    ];
    const facts = (values: Partial<StatusCounts>) => ({
      counts: counts(values),
      size: size(values),
      stopRequested: false,
    });
    expect(batchStatusOf(facts({ Failed: 1, Running: 2 }), rules)).toBe("Failed");
    expect(batchStatusOf(facts({ Succeeded: 1, Stopped: 1 }), rules)).toBe("Succeeded");
    expect(batchStatusOf(facts({ Running: 1 }), rules)).toBe("Running");
  });
});
