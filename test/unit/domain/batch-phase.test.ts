import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchStatusOf, emptyCounts, type StatusCounts } from "#lib/domain/aggregate.js";
import { batchPhaseOf, membershipOf, phaseOf } from "#lib/domain/batch-phase.js";
import { STORED_STATUSES, type StoredStatus } from "#lib/domain/status.js";

describe("phases", () => {
  it.each([
    [{ Waiting: 3 }, 3, "waiting"],
    [{ Waiting: 2, Active: 1 }, 3, "active"],
    [{ Waiting: 1, Succeeded: 2 }, 3, "active"],
    [{ Succeeded: 2, Stopped: 1 }, 3, "ended"],
    [{ Failed: 1, DeadlineExceeded: 1 }, 2, "ended"],
  ] as const)("%j of %i jobs is %s", (counts, size, phase) => {
    expect(phaseOf(counts, size)).toBe(phase);
  });

  it("a batch is waiting while no shard started, ended once every shard ended", () => {
    expect(batchPhaseOf(0, 0, 3)).toBe("waiting");
    expect(batchPhaseOf(1, 0, 3)).toBe("active");
    expect(batchPhaseOf(3, 2, 3)).toBe("active");
    expect(batchPhaseOf(3, 3, 3)).toBe("ended");
    expect(membershipOf("ended")).toEqual({ started: true, ended: true });
    expect(membershipOf("waiting")).toEqual({ started: false, ended: false });
  });
});

const SHARD = 4;
const status = fc.constantFrom(...STORED_STATUSES);

describe("the shard sets tell the batch's phase", () => {
  it("after any sequence of job changes, the phase from the shards' memberships is the phase of the whole batch", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.tuple(fc.nat(), status), { maxLength: 60 }),
        (size, changes) => {
          const jobs: StoredStatus[] = Array.from({ length: size }, () => "Waiting");
          const shardCount = Math.ceil(size / SHARD);
          const started = new Set<number>();
          const ended = new Set<number>();
          const shardCounts = (shard: number) => {
            const counts: Record<string, number> = {};
            const members = jobs.slice(shard * SHARD, (shard + 1) * SHARD);
            for (const job of members) counts[job] = (counts[job] ?? 0) + 1;
            return { counts, size: members.length };
          };
          for (const [pick, next] of changes) {
            const ordinal = pick % size;
            const shard = Math.floor(ordinal / SHARD);
            const before = shardCounts(shard);
            jobs[ordinal] = next;
            const after = shardCounts(shard);
            // As lib/service/entries.ts does: only a flip of the shard's phase is told to the tracker.
            if (phaseOf(before.counts, before.size) === phaseOf(after.counts, after.size)) continue;
            const membership = membershipOf(phaseOf(after.counts, after.size));
            (membership.started ? started.add(shard) : started.delete(shard)) as unknown;
            (membership.ended ? ended.add(shard) : ended.delete(shard)) as unknown;
          }
          const total: Record<string, number> = {};
          for (const job of jobs) total[job] = (total[job] ?? 0) + 1;
          expect(batchPhaseOf(started.size, ended.size, shardCount)).toBe(phaseOf(total, size));
        },
      ),
    );
  });

  it("under the default rule a batch that has not ended changes status only with its phase or a stop", () => {
    const countsOf = (jobs: StoredStatus[]): StatusCounts => {
      const counts = emptyCounts();
      for (const job of jobs) counts[job]++;
      return counts;
    };
    fc.assert(
      fc.property(fc.array(status, { minLength: 1, maxLength: 10 }), fc.boolean(), (jobs, stopRequested) => {
        const counts = countsOf(jobs);
        const phase = phaseOf(counts, jobs.length);
        fc.pre(phase !== "ended");
        const byPhase = { waiting: "Waiting", active: "Running" }[phase];
        expect(batchStatusOf({ counts, size: jobs.length, stopRequested })).toBe(
          stopRequested ? "Stopping" : byPhase,
        );
      }),
    );
  });
});
