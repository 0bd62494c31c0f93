import { describe, expect, it } from "vitest";
import { timeArgument } from "#lib/cli/context.js";
import { buildSubmission, InputError, readDocument } from "#lib/cli/input.js";

describe("what `job-scheduler submit` sends", () => {
  it("a JSON object is a job, and flags override its fields", () => {
    const document = readDocument('{"payload": "x", "jobId": "a", "timeLimitSeconds": 60}', "job.json");
    expect(buildSubmission(document, { jobId: "b", memory: "1Gi" })).toEqual({
      kind: "job",
      body: {
        payload: "x",
        jobId: "b",
        timeLimitSeconds: 60,
        resources: { requests: { memory: "1Gi" }, limits: { memory: "1Gi" } },
      },
    });
  });

  it("a YAML batch keeps its defaults; flags are added to them", () => {
    const yaml = [
      "batchId: nightly",
      "defaultRadixJobComponentConfig:",
      "  backoffLimit: 2",
      "jobScheduleDescriptions:",
      "  - payload: one",
      "  - payload: two",
      "    jobId: second",
    ].join("\n");
    const submission = buildSubmission(readDocument(yaml, "batch.yaml"), { project: "team-a" });
    expect(submission).toEqual({
      kind: "batch",
      body: {
        batchId: "nightly",
        defaultRadixJobComponentConfig: { backoffLimit: 2, project: "team-a" },
        jobScheduleDescriptions: [{ payload: "one" }, { payload: "two", jobId: "second" }],
      },
    });
  });

  it("JSON Lines and a JSON list are batches of those jobs", () => {
    const lines = readDocument('{"payload": "1"}\n{"payload": "2"}\n\n{"payload": "3"}\n', "jobs.jsonl");
    expect(buildSubmission(lines, { batchId: "b" })).toEqual({
      kind: "batch",
      body: { batchId: "b", jobScheduleDescriptions: [{ payload: "1" }, { payload: "2" }, { payload: "3" }] },
    });
    expect(buildSubmission(readDocument('[{"jobId": "x"}]', "list.json"), {}).kind).toBe("batch");
  });

  it("flags alone are one job, or --count copies of it as a batch", () => {
    expect(buildSubmission(undefined, { payload: "p", env: ["A=1", "B=x=y"] })).toEqual({
      kind: "job",
      body: { payload: "p", variables: { A: "1", B: "x=y" } },
    });
    const batch = buildSubmission(undefined, { payload: "p", count: "3", gpu: "nvidia-a10g", gpuCount: "1" });
    expect(batch).toEqual({
      kind: "batch",
      body: {
        defaultRadixJobComponentConfig: { node: { gpu: "nvidia-a10g", gpuCount: "1" } },
        jobScheduleDescriptions: [{ payload: "p" }, { payload: "p" }, { payload: "p" }],
      },
    });
  });

  it("refuses what the API would refuse, naming the field, before anything is sent", () => {
    expect(() => buildSubmission(undefined, { cpu: "12Xi" })).toThrow(/resources\.limits\.cpu: '12Xi'/);
    expect(() => buildSubmission({ jobScheduleDescriptions: [] }, {})).toThrow(InputError);
    expect(() => buildSubmission(undefined, { timeLimit: "soon" })).toThrow(
      "--time-limit must be a whole number",
    );
    expect(() => buildSubmission(undefined, { env: ["NOEQUALS"] })).toThrow("--env takes NAME=VALUE");
    expect(() => readDocument("{not json", "job.json")).toThrow("job.json is not valid JSON or YAML");
  });

  it("takes times as RFC 3339 or as an age", () => {
    const now = Date.parse("2026-03-01T12:00:00Z");
    expect(timeArgument("2h", now)).toBe("2026-03-01T10:00:00.000Z");
    expect(timeArgument("2026-02-01T00:00:00Z", now)).toBe("2026-02-01T00:00:00.000Z");
    expect(() => timeArgument("yesterday", now)).toThrow(InputError);
  });
});
