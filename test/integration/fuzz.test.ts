import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ batch: { mode: "status-only" }, reconcileEveryMs: 0 });
});
afterAll(async () => {
  await stack?.stop();
});

const REQUESTS = 5_000;

const quantity = fc.oneof(
  fc.constantFrom("32Mi", "1Gi", "300m", "2", "0.5", "12Xi", "", "-1", "1e3", "9999999Ti"),
  fc.string(),
);
const jobFields = fc.record(
  {
    payload: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant('{"exitCode": 0}')),
    jobId: fc.oneof(fc.string(), fc.integer()),
    imageTagName: fc.oneof(fc.constantFrom("1.0.0", "2.0.0", "a/b", ""), fc.string()),
    timeLimitSeconds: fc.oneof(fc.integer({ min: -10, max: 100_000 }), fc.double(), fc.string()),
    backoffLimit: fc.oneof(fc.integer({ min: -5, max: 20 }), fc.string()),
    resources: fc.oneof(
      fc.record(
        { limits: fc.record({ cpu: quantity, memory: quantity }, { requiredKeys: [] }) },
        { requiredKeys: [] },
      ),
      fc.anything(),
    ),
    node: fc.oneof(
      fc.record(
        {
          gpu: fc.oneof(fc.constantFrom("gpu1", "nvidia-l4, -nvidia-a10g", "nvidia-h100"), fc.string()),
          gpuCount: fc.oneof(fc.constantFrom("1", "9", "x"), fc.integer()),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    ),
    variables: fc.oneof(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }), fc.anything()),
    command: fc.oneof(fc.array(fc.string(), { maxLength: 3 }), fc.anything()),
    failurePolicy: fc.anything(),
    runtime: fc.oneof(
      fc.record(
        {
          architecture: fc.constantFrom("amd64", "arm64", "x86"),
          nodeType: fc.oneof(fc.constantFrom("c7i.large", "g5.2xlarge", "c6i", "", "G5"), fc.string()),
        },
        { requiredKeys: [] },
      ),
      fc.anything(),
    ),
    preemptible: fc.oneof(fc.boolean(), fc.anything()),
    project: fc.oneof(fc.constantFrom("team-a", "Team_A", "x".repeat(64)), fc.string()),
  },
  { requiredKeys: [] },
);
const batchBody = fc.record(
  {
    batchId: fc.oneof(fc.string(), fc.anything()),
    defaultRadixJobComponentConfig: fc.oneof(jobFields, fc.anything()),
    jobScheduleDescriptions: fc.oneof(fc.array(jobFields, { maxLength: 3 }), fc.anything()),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  jobFields.map((value) => JSON.stringify(value)),
  batchBody.map((value) => JSON.stringify(value)),
  fc.json(),
  fc.string(),
  fc.constant(""),
);
const name = fc.oneof(
  fc.string(),
  fc.constantFrom(
    "batch-compute-20230220101417-idwsxncs-rkwaibwe",
    "batch-compute-20230220101417-idwsxncs",
    "..",
    "%2e%2e",
    "%",
    "a%2Fb",
  ),
  fc.stringMatching(/^batch-compute-\d{14}-[a-z0-9]{8}(-[a-z0-9]{8})?$/),
);
const path = fc.oneof(
  fc.constantFrom(
    "/api/v1/jobs",
    "/api/v1/batches",
    "/api/v1/jobs/stop",
    "/api/v1/batches/stop",
    "/api/v1/openapi.json",
  ),
  name.map((n) => `/api/v1/jobs/${encodeURIComponent(n)}`),
  name.map((n) => `/api/v1/jobs/${encodeURIComponent(n)}/stop`),
  name.map((n) => `/api/v1/jobs/${encodeURIComponent(n)}/logs?tail=${n.length}`),
  name.map(
    (n) => `/api/v1/batches/${encodeURIComponent(n)}?limit=${n.length}&nextToken=${encodeURIComponent(n)}`,
  ),
  fc
    .tuple(name, name)
    .map(([b, j]) => `/api/v1/batches/${encodeURIComponent(b)}/jobs/${encodeURIComponent(j)}/stop`),
  fc.string().map((s) => `/api/v1/${encodeURIComponent(s)}`),
);
const request = fc.record({
  method: fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
  path,
  body,
  idempotencyKey: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
  contentType: fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
});

describe("hostile input", () => {
  it(`${REQUESTS} generated requests: never a 5xx, every 4xx a Status object`, async () => {
    const samples = fc.sample(request, { numRuns: REQUESTS, seed: 20261123 });
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    let next = 0;
    const worker = async () => {
      while (next < samples.length) {
        const sample = samples[next++]!;
        const headers: Record<string, string> = { "content-type": sample.contentType };
        if (sample.idempotencyKey !== undefined)
          headers["idempotency-key"] = sample.idempotencyKey.replace(/[\r\n]/g, "");
        let response: Response;
        try {
          response = await fetch(`${stack.url}${sample.path}`, {
            method: sample.method,
            headers,
            body: sample.method === "GET" || sample.method === "DELETE" ? undefined : sample.body,
          });
        } catch (error) {
          if (String((error as Error).cause ?? error).includes("header")) continue; // the client refused the header
          throw error;
        }
        const text = await response.text();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500)
          failures.push(`${response.status} ${sample.method} ${sample.path} ${text.slice(0, 200)}`);
        if (response.status >= 400) {
          const parsed = JSON.parse(text);
          if (
            parsed.status !== "Failure" ||
            parsed.code !== response.status ||
            typeof parsed.message !== "string"
          ) {
            failures.push(
              `not a Status object: ${response.status} ${sample.method} ${sample.path} ${text.slice(0, 200)}`,
            );
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    expect(failures).toEqual([]);
    // The generator reaches both sides: accepted requests and each kind of refusal.
    const answered = [...statuses.values()].reduce((a, b) => a + b, 0);
    expect(answered).toBeGreaterThan(REQUESTS * 0.95);
    expect(statuses.get(200)).toBeGreaterThan(50);
    for (const code of [404, 422]) expect(statuses.get(code)).toBeGreaterThan(50);
  }, 300_000);
});
