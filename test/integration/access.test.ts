import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JobStatus, Status } from "#lib/api/schemas.js";
import { eventually, sampleConfig, startTestStack, type TestStack } from "./harness.js";

const ALICE = { authorization: "Bearer alice-token-123" };
const BOB = { authorization: "Bearer bob-token-4567" };
const OPS = { authorization: "Bearer ops-token-8901" };

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    config: sampleConfig((config) => {
      config.auth = {
        localTokens: { "alice-token-123": "alice", "bob-token-4567": "bob", "ops-token-8901": "ops-oncall" },
      };
      config.projects = [
        { name: "team-a", weight: 1, submit: ["alice"], stop: ["alice", "ops-*"] },
        { name: "team-b", weight: 1 },
      ];
    }),
  });
});
afterAll(async () => {
  await stack?.stop();
});

describe("authentication and project access", () => {
  it("asks for a known bearer token when tokens are configured (401)", async () => {
    const none = await stack.api<Status>("GET", "/api/v1/jobs");
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ status: "Failure", code: 401, reason: "Unauthorized" });
    const unknown = await stack.api<Status>("GET", "/api/v1/jobs", undefined, {
      authorization: "Bearer not-a-token",
    });
    expect(unknown.status).toBe(401);
    expect((await stack.api("GET", "/api/v1/jobs", undefined, BOB)).status).toBe(200);
  });

  it("a caller without access to a project gets 403; the submitter is recorded on the job", async () => {
    const refused = await stack.api<Status>("POST", "/api/v1/jobs", { project: "team-a" }, BOB);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ status: "Failure", code: 403, reason: "Forbidden" });
    expect(refused.body.message).toContain("bob may not submit to project team-a");
    const batch = await stack.api<Status>(
      "POST",
      "/api/v1/batches",
      { defaultRadixJobComponentConfig: { project: "team-a" }, jobScheduleDescriptions: [{}] },
      BOB,
    );
    expect(batch.status).toBe(403);

    const allowed = await stack.api<JobStatus>(
      "POST",
      "/api/v1/jobs",
      { project: "team-a", payload: '{"sleepSeconds": 30}' },
      ALICE,
    );
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(200);
    expect(allowed.body.submittedBy).toBe("alice");
    expect(allowed.body.project).toBe("team-a");

    const stopByBob = await stack.api<Status>(
      "POST",
      `/api/v1/jobs/${allowed.body.name}/stop`,
      undefined,
      BOB,
    );
    expect(stopByBob.status).toBe(403);
    const deleteByBob = await stack.api<Status>(
      "DELETE",
      `/api/v1/jobs/${allowed.body.name}`,
      undefined,
      BOB,
    );
    expect(deleteByBob.status).toBe(403);
    // stop-all by bob leaves team-a's job alone
    await stack.api("POST", "/api/v1/jobs/stop", undefined, BOB);
    const still = await stack.api<JobStatus>("GET", `/api/v1/jobs/${allowed.body.name}`, undefined, BOB);
    expect(still.body.status).not.toBe("Stopping");
    const stopByOps = await stack.api<Status>(
      "POST",
      `/api/v1/jobs/${allowed.body.name}/stop`,
      undefined,
      OPS,
    );
    expect(stopByOps.status).toBe(200);
    await eventually(async () => {
      const job = await stack.api<JobStatus>("GET", `/api/v1/jobs/${allowed.body.name}`, undefined, OPS);
      return job.body.status === "Stopped";
    });
  });

  it("a project without rules is open to every authenticated caller", async () => {
    const created = await stack.api<JobStatus>("POST", "/api/v1/jobs", { project: "team-b" }, BOB);
    expect(created.status).toBe(200);
    expect(created.body.submittedBy).toBe("bob");
  });
});
