import { describe, expect, it } from "vitest";
import { isQuantity, parseQuantity, toBatchVcpus, toMebibytes } from "#lib/domain/quantity.js";

describe("Kubernetes quantities", () => {
  it.each([
    ["32Mi", 32 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["300m", 0.3],
    ["2", 2],
    ["0.5", 0.5],
    ["1e3", 1000],
    ["1k", 1000],
    ["128M", 128e6],
  ])("parses %s", (text, value) => {
    expect(parseQuantity(text)).toBeCloseTo(value, 9);
  });

  it.each(["12Xi", "", "Mi", "-1", "1.2.3", "abc", "1 Gi", "1mi"])("refuses %j", (text) => {
    expect(isQuantity(text)).toBe(false);
  });

  it("rounds memory up to whole MiB and vCPUs up to whole vCPUs, at least one", () => {
    expect(toMebibytes(16 * 2 ** 20 + 1)).toBe(17);
    expect(toBatchVcpus(0.15)).toBe(1);
    expect(toBatchVcpus(2)).toBe(2);
    expect(toBatchVcpus(2.5)).toBe(3);
  });
});
