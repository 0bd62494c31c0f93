import { describe, expect, it } from "vitest";
import {
  componentOfBatch,
  isBatchName,
  jobName,
  newBatchName,
  parseJobName,
  resolveJobInBatch,
} from "#lib/domain/names.js";

describe("names", () => {
  const batch = newBatchName("compute", new Date("2023-02-20T10:14:17Z"), "idwsxncs");

  it("makes batch names as Radix does", () => {
    expect(batch).toBe("batch-compute-20230220101417-idwsxncs");
    expect(isBatchName(batch)).toBe(true);
    expect(componentOfBatch("batch-my-etl-20230220101417-idwsxncs")).toBe("my-etl");
  });

  it("gives each job of a batch a distinct 8-character suffix that leads back to its ordinal", () => {
    const seen = new Set<string>();
    for (let ordinal = 0; ordinal < 20_000; ordinal++) {
      const name = jobName(batch, ordinal);
      expect(name).toMatch(/^batch-compute-20230220101417-idwsxncs-[a-z0-9]{8}$/);
      seen.add(name);
      expect(parseJobName(name)).toEqual({ batchName: batch, ordinal });
    }
    expect(seen.size).toBe(20_000);
  });

  it("refuses names that are not job names", () => {
    for (const name of [
      "",
      "x",
      `${batch}`,
      `${batch}-ABCDEFGH`,
      `${batch}-abc`,
      "batch-compute-1-abcdefgh-abcdefgh",
      "../../etc",
    ]) {
      expect(parseJobName(name)).toBeUndefined();
    }
  });

  it("accepts a job in a batch by full name or by suffix, and not from another batch", () => {
    const name = jobName(batch, 7);
    expect(resolveJobInBatch(batch, name)?.ordinal).toBe(7);
    expect(resolveJobInBatch(batch, name.slice(-8))?.ordinal).toBe(7);
    expect(resolveJobInBatch("batch-compute-20230220101417-aaaaaaaa", name)).toBeUndefined();
  });
});
