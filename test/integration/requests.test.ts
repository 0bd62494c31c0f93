import { DescribeJobsCommand, ListJobsCommand } from "@aws-sdk/client-batch";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { finalJob, startTestStack, type TestStack } from "./harness.js";

type Result = { status: string; message: string; reason?: string; code: number };

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ batch: { mode: "status-only" } });
});
afterAll(async () => {
  await stack?.stop();
});

const megabyte = "x".repeat(1024 * 1024 + 1);
const validName = "batch-compute-20230220101417-idwsxncs-rkwaibwe";

/** Spec 000 and 001: every example request must be accepted as written. */
const specJobExamples = [
  {
    payload: "Sk9CX1BBUkFNMTogeHl6Cg==",
    jobId: "my-job-1",
    imageTagName: "1.0.0",
    timeLimitSeconds: 120,
    backoffLimit: 10,
    resources: { limits: { memory: "32Mi", cpu: "300m" }, requests: { memory: "16Mi", cpu: "150m" } },
    node: { gpu: "gpu1, gpu2, gpu3", gpuCount: "6" },
  },
  { payload: '{"x": 10, "y": 20}' },
  { jobId: "my-job", payload: '{"x": 10, "y": 20}' },
  { payload: "Sk9CX1BBUkFNMTogeHl6Cg==" },
];

const specBatchExamples = [
  {
    defaultRadixJobComponentConfig: {
      imageTagName: "1.0.0",
      timeLimitSeconds: 200,
      backoffLimit: 5,
      resources: {
        limits: { memory: "200Mi", cpu: "200m" },
        requests: { memory: "100Mi", cpu: "100m" },
        node: { gpu: "gpu1", gpuCount: "2" },
      },
    },
    jobScheduleDescriptions: [
      {
        payload: "{'data':'value1'}",
        jobId: "my-job-1",
        imageTagName: "1.0.0",
        timeLimitSeconds: 120,
        backoffLimit: 10,
        resources: { limits: { memory: "32Mi", cpu: "300m" }, requests: { memory: "16Mi", cpu: "150m" } },
        node: { gpu: "gpu1, gpu2, gpu3", gpuCount: "6" },
      },
      // The spec shows a third item elided as "..."; the two complete ones stand for it.
      { payload: "{'data':'value2'}", jobId: "my-job-2" },
      { payload: "{'data':'value3'}" },
    ],
  },
  { jobScheduleDescriptions: [{ payload: '{"x": 10, "y": 20}' }, { payload: '{"x": 20, "y": 30}' }] },
  {
    jobScheduleDescriptions: [
      { jobId: "my-job-1", payload: '{"x": 10, "y": 20}' },
      { jobId: "my-job-2", payload: '{"x": 20, "y": 30}' },
    ],
  },
  {
    defaultRadixJobComponentConfig: {
      imageTagName: "1.0.0",
      timeLimitSeconds: 200,
      backoffLimit: 5,
      resources: { limits: { memory: "200Mi", cpu: "200m" }, requests: { memory: "100Mi", cpu: "100m" } },
    },
    jobScheduleDescriptions: [
      {
        payload: "{'data':'value1'}",
        timeLimitSeconds: 120,
        backoffLimit: 2,
        resources: { limits: { memory: "32Mi", cpu: "300m" }, requests: { memory: "16Mi", cpu: "150m" } },
        node: { gpu: "gpu1, gpu2, gpu3", gpuCount: "6" },
      },
      { payload: "{'data':'value2'}", imageTagName: "2.0.0" },
      {
        payload: "{'data':'value3'}",
        timeLimitSeconds: 300,
        backoffLimit: 10,
        node: { gpu: "gpu3", gpuCount: "1" },
      },
    ],
  },
];

describe("Radix's example requests", () => {
  it.each(specJobExamples.map((body, i) => [i, body]))("job example %i is accepted", async (_, body) => {
    const response = await stack.api<{ status: string }>("POST", "/api/v1/jobs", body);
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.status).toBe("Waiting");
  });

  it.each(specBatchExamples.map((body, i) => [i, body]))("batch example %i is accepted", async (_, body) => {
    const response = await stack.api<{ status: string; jobStatuses: unknown[] }>(
      "POST",
      "/api/v1/batches",
      body,
    );
    expect(response.status, JSON.stringify(response.body)).toBe(200);
    expect(response.body.status).toBe("Waiting");
    expect(response.body.jobStatuses).toHaveLength(
      (body as { jobScheduleDescriptions: unknown[] }).jobScheduleDescriptions.length,
    );
  });
});

/** [what, method, path, body, expected status, words the message must contain] */
const badRequests: [string, string, string, unknown, number, string][] = [
  ["malformed JSON", "POST", "/api/v1/jobs", "{not json", 422, "not valid JSON"],
  ["a JSON array", "POST", "/api/v1/jobs", "[]", 422, "JSON object"],
  ["a JSON string", "POST", "/api/v1/jobs", '"hello"', 422, "JSON object"],
  ["payload of the wrong type", "POST", "/api/v1/jobs", { payload: 42 }, 422, "payload"],
  ["payload over 1 MB", "POST", "/api/v1/jobs", { payload: megabyte }, 422, "1 MB"],
  [
    "memory quantity 12Xi",
    "POST",
    "/api/v1/jobs",
    { resources: { limits: { memory: "12Xi" } } },
    422,
    "resources.limits.memory",
  ],
  [
    "cpu quantity abc",
    "POST",
    "/api/v1/jobs",
    { resources: { requests: { cpu: "abc" } } },
    422,
    "resources.requests.cpu",
  ],
  ["negative backoffLimit", "POST", "/api/v1/jobs", { backoffLimit: -1 }, 422, "backoffLimit"],
  ["fractional backoffLimit", "POST", "/api/v1/jobs", { backoffLimit: 1.5 }, 422, "backoffLimit"],
  ["zero timeLimitSeconds", "POST", "/api/v1/jobs", { timeLimitSeconds: 0 }, 422, "timeLimitSeconds"],
  ["timeLimitSeconds as text", "POST", "/api/v1/jobs", { timeLimitSeconds: "120" }, 422, "timeLimitSeconds"],
  [
    "gpuCount not a number",
    "POST",
    "/api/v1/jobs",
    { node: { gpu: "gpu1", gpuCount: "many" } },
    422,
    "node.gpuCount",
  ],
  ["unknown GPU type", "POST", "/api/v1/jobs", { node: { gpu: "nvidia-h100" } }, 400, "nvidia-h100"],
  [
    "more GPUs than any instance has",
    "POST",
    "/api/v1/jobs",
    { node: { gpu: "nvidia-t4", gpuCount: "64" } },
    400,
    "gpuCount",
  ],
  ["too much cpu", "POST", "/api/v1/jobs", { resources: { limits: { cpu: "1000" } } }, 400, "cpu"],
  [
    "architecture no compute offers",
    "POST",
    "/api/v1/jobs",
    { runtime: { architecture: "arm64" } },
    400,
    "runtime.architecture 'arm64' is not offered",
  ],
  [
    "unknown nodeType",
    "POST",
    "/api/v1/jobs",
    { runtime: { nodeType: "c6i.large" } },
    400,
    "runtime.nodeType 'c6i.large' matches no configured instance type",
  ],
  ["preemptible without Spot capacity", "POST", "/api/v1/jobs", { preemptible: true }, 400, "preemptible"],
  ["preemptible not a boolean", "POST", "/api/v1/jobs", { preemptible: "yes" }, 422, "preemptible"],
  ["project not a DNS label", "POST", "/api/v1/jobs", { project: "Team_A" }, 422, "project"],
  [
    "batch defaults asking for Spot where there is none",
    "POST",
    "/api/v1/batches",
    { defaultRadixJobComponentConfig: { preemptible: true }, jobScheduleDescriptions: [{}, {}] },
    400,
    "jobScheduleDescriptions[0]: preemptible: true",
  ],
  ["variables not strings", "POST", "/api/v1/jobs", { variables: { A: 1 } }, 422, "variables"],
  ["bad variable name", "POST", "/api/v1/jobs", { variables: { "1A": "x" } }, 422, "variables"],
  ["command not a list", "POST", "/api/v1/jobs", { command: "run" }, 422, "command"],
  ["imageTagName with a slash", "POST", "/api/v1/jobs", { imageTagName: "a/b" }, 422, "imageTagName"],
  [
    "batch without jobs",
    "POST",
    "/api/v1/batches",
    { jobScheduleDescriptions: [] },
    422,
    "jobScheduleDescriptions",
  ],
  ["batch without body", "POST", "/api/v1/batches", "", 422, "empty"],
  [
    "batch job with bad quantity",
    "POST",
    "/api/v1/batches",
    { jobScheduleDescriptions: [{}, { resources: { limits: { memory: "1Zi" } } }] },
    422,
    "jobScheduleDescriptions[1]",
  ],
  [
    "batch defaults with bad backoffLimit",
    "POST",
    "/api/v1/batches",
    { defaultRadixJobComponentConfig: { backoffLimit: -3 }, jobScheduleDescriptions: [{}] },
    422,
    "defaultRadixJobComponentConfig.backoffLimit",
  ],
  ["unknown job name", "GET", `/api/v1/jobs/${validName}`, undefined, 404, "not found"],
  ["malformed job name", "GET", "/api/v1/jobs/..%2F..%2Fetc", undefined, 404, "not found"],
  ["stop of an unknown job", "POST", `/api/v1/jobs/${validName}/stop`, undefined, 404, "not found"],
  ["delete of an unknown job", "DELETE", "/api/v1/jobs/nope", undefined, 404, "not found"],
  [
    "unknown batch",
    "GET",
    "/api/v1/batches/batch-compute-20230220101417-idwsxncs",
    undefined,
    404,
    "not found",
  ],
  ["unknown route", "GET", "/api/v1/nothing", undefined, 404, "does not exist"],
  [
    "bad page size",
    "GET",
    "/api/v1/batches/batch-compute-20230220101417-idwsxncs?limit=0",
    undefined,
    422,
    "limit",
  ],
];

describe("bad requests", () => {
  it.each(badRequests)("%s → %i", async (_, method, path, body, expected, words) => {
    const response = await stack.api<Result>(method, path, body);
    expect(response.status).toBe(expected);
    expect(response.body).toMatchObject({ status: "Failure", code: expected });
    expect(typeof response.body.reason).toBe("string");
    expect(response.body.message).toContain(words);
  });

  it("a payload over 1 MB is refused before anything is written", async () => {
    const before = await stack.api<unknown[]>("GET", "/api/v1/jobs");
    await stack.api("POST", "/api/v1/jobs", { payload: megabyte });
    const after = await stack.api<unknown[]>("GET", "/api/v1/jobs");
    expect(after.body).toHaveLength(before.body.length);
  });
});

describe("requests AWS Batch would refuse are a 422 naming the field, and nothing is stored", () => {
  /** A string of `bytes` characters. */
  const text = (bytes: number) => "x".repeat(bytes);
  const cases: [string, string, unknown, string][] = [
    [
      "a variable named AWS_BATCH_*",
      "/api/v1/jobs",
      { variables: { AWS_BATCH_JOB_ID: "mine" } },
      "variables.AWS_BATCH_JOB_ID: invalid name: names starting with AWS_BATCH are reserved",
    ],
    [
      "an AWS_BATCH_* variable in one job of a batch",
      "/api/v1/batches",
      { jobScheduleDescriptions: [{}, { variables: { OK: "1", AWS_BATCH_CE_NAME: "x" } }] },
      "jobScheduleDescriptions[1].variables.AWS_BATCH_CE_NAME",
    ],
    [
      "an AWS_BATCH_* variable in the batch defaults",
      "/api/v1/batches",
      { defaultRadixJobComponentConfig: { variables: { AWS_BATCH_X: "1" } }, jobScheduleDescriptions: [{}] },
      "defaultRadixJobComponentConfig.variables.AWS_BATCH_X",
    ],
    [
      "a command that makes SubmitJob pass 30 KiB",
      "/api/v1/jobs",
      { command: ["sh", "-c", text(31_000)] },
      "command: this job's AWS Batch SubmitJob request would be up to 3",
    ],
    [
      "args that make one job of a batch pass 30 KiB",
      "/api/v1/batches",
      { jobScheduleDescriptions: [{}, { args: Array.from({ length: 40 }, () => text(800)) }] },
      "jobScheduleDescriptions[1].args: this job's AWS Batch SubmitJob request would be up to",
    ],
    [
      "variables in the batch defaults that pass 30 KiB",
      "/api/v1/batches",
      {
        defaultRadixJobComponentConfig: { variables: { A: text(16_000), B: text(16_000) } },
        jobScheduleDescriptions: [{}, {}],
      },
      "AWS Batch refuses requests over 30 KiB (30720 bytes); variables alone takes 32",
    ],
  ];

  /** Everything stored: single jobs and batches. */
  const stored = async () =>
    (await stack.api<unknown[]>("GET", "/api/v1/jobs")).body.length +
    (await stack.api<unknown[]>("GET", "/api/v1/batches")).body.length;

  it.each(cases)("%s", async (_, path, body, words) => {
    const before = await stored();
    const response = await stack.api<Result>("POST", path, body);
    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ status: "Failure", code: 422, reason: "Invalid" });
    expect(response.body.message).toContain(words);
    expect(await stored()).toBe(before);
  });

  it("a job just under the limit is accepted, and AWS Batch (the emulator measures the request) takes it", async () => {
    const response = await stack.api<{ name: string }>("POST", "/api/v1/jobs", {
      variables: { A: text(14_000), B: text(14_000) },
    });
    expect(response.status).toBe(200);
    expect((await finalJob(stack, response.body.name)).status).toBe("Succeeded");
  });
});

describe("queue and share identifier", () => {
  /** The AWS Batch job of a single job, found by its name in a queue. */
  async function batchJob(queue: string, name: string) {
    const listed = await stack.clients.batch.send(
      new ListJobsCommand({ jobQueue: queue, filters: [{ name: "JOB_NAME", values: [name] }] }),
    );
    const jobId = listed.jobSummaryList?.[0]?.jobId;
    expect(jobId, `${name} in ${queue}`).toBeDefined();
    const described = await stack.clients.batch.send(new DescribeJobsCommand({ jobs: [jobId!] }));
    return described.jobs![0]!;
  }

  it("preemptible picks the Spot queue and project becomes the share identifier", async () => {
    const gpu = await stack.api<{ name: string }>("POST", "/api/v1/jobs", {
      node: { gpu: "nvidia-a10g" },
      preemptible: true,
      project: "team-a",
    });
    expect(gpu.status, JSON.stringify(gpu.body)).toBe(200);
    expect((await batchJob("sample-g5", gpu.body.name)).shareIdentifier).toBe("team-a");

    const cpu = await stack.api<{ name: string }>("POST", "/api/v1/jobs", { preemptible: false });
    expect(cpu.status, JSON.stringify(cpu.body)).toBe(200);
    expect((await batchJob("sample-cpu", cpu.body.name)).shareIdentifier).toBe("compute");
  });
});
