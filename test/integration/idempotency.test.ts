import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus } from "#lib/api/schemas.js";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ batch: { mode: "status-only" } });
});
afterAll(async () => {
  await stack?.stop();
});

async function post(path: string, body: unknown, key: string) {
  const response = await fetch(`${stack.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "idempotency-key": key },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as BatchStatus & { message: string; reason: string },
  };
}

describe("Idempotency-Key", () => {
  it("20 concurrent identical POSTs with one key create exactly one batch", async () => {
    const submitsBefore = stack.batch.stats().SubmitJob ?? 0;
    const body = { batchId: "once", jobScheduleDescriptions: [{ payload: "a" }, { payload: "b" }] };
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => post("/api/v1/batches", body, "batch-key-1")),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((answer) => answer.body.name)).size).toBe(1);
    const batches = await stack.api<BatchStatus[]>("GET", "/api/v1/batches");
    expect(batches.body.filter((batch) => batch.batchId === "once")).toHaveLength(1);
    expect((stack.batch.stats().SubmitJob ?? 0) - submitsBefore).toBe(1);
  });

  it("a repeated single job returns the same job and submits nothing", async () => {
    const first = await post("/api/v1/jobs", { payload: "x" }, "job-key-1");
    const submits = stack.batch.stats().SubmitJob ?? 0;
    const again = await post("/api/v1/jobs", { payload: "x" }, "job-key-1");
    expect(again.status).toBe(200);
    expect(again.body.name).toBe(first.body.name);
    expect(stack.batch.stats().SubmitJob ?? 0).toBe(submits);
  });

  it("the same key with another body is a 409 that says so", async () => {
    await post("/api/v1/jobs", { payload: "x" }, "job-key-2");
    const other = await post("/api/v1/jobs", { payload: "y" }, "job-key-2");
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ status: "Failure", reason: "Conflict", code: 409 });
    expect(other.body.message).toContain("different request body");
  });
});
