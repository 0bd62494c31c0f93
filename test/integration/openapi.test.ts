import { Ajv2020 } from "ajv/dist/2020.js";
import formats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchStatus, JobStatus } from "#lib/api/schemas.js";
import { finalJob, startTestStack, type TestStack } from "./harness.js";

let stack: TestStack;
let document: {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
};
type Schema = {
  type?: string | string[];
  properties?: Record<string, Schema>;
  anyOf?: Schema[];
  $ref?: string;
  items?: Schema;
};
const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default export arrives as the module object.
const addFormats = ((formats as unknown as { default?: unknown }).default ?? formats) as (
  ajv: Ajv2020,
) => void;
addFormats(ajv);

beforeAll(async () => {
  stack = await startTestStack({ reconcileEveryMs: 0 });
  const served = await stack.api<typeof document>("GET", "/api/v1/openapi.json");
  expect(served.status).toBe(200);
  document = served.body;
  ajv.addSchema(document, "openapi.json");
});
afterAll(async () => {
  await stack?.stop();
});

const pointer = (...parts: string[]) =>
  parts.map((part) => part.replaceAll("~", "~0").replaceAll("/", "~1")).join("/");

/** Calls a route and checks the JSON answer against the served document's schema for that route and code. */
async function call<T>(method: string, path: string, route: string, body?: unknown): Promise<T> {
  const response = await stack.api<T>(method, path, body);
  const responses = (document.paths[route]?.[method.toLowerCase()] as { responses?: Record<string, unknown> })
    ?.responses;
  expect(
    responses?.[String(response.status)],
    `${method} ${route} documents ${response.status}`,
  ).toBeDefined();
  const validate = ajv.getSchema(
    `openapi.json#/${pointer("paths", route, method.toLowerCase(), "responses", String(response.status), "content", "application/json", "schema")}`,
  )!;
  expect(validate(response.body) ? [] : validate.errors, `${method} ${path} → ${response.status}`).toEqual(
    [],
  );
  return response.body;
}

describe("the served OpenAPI 3.1 document", () => {
  it("describes what every route really answers, successes and errors alike", async () => {
    const job = await call<JobStatus>("POST", "/api/v1/jobs", "/jobs", { payload: "x", jobId: "doc" });
    await finalJob(stack, job.name);
    await call("GET", "/api/v1/jobs", "/jobs");
    await call("GET", `/api/v1/jobs/${job.name}`, "/jobs/{jobName}");
    await call("POST", `/api/v1/jobs/${job.name}/stop`, "/jobs/{jobName}/stop");
    const sleeper = await call<JobStatus>("POST", "/api/v1/jobs", "/jobs", {
      payload: '{"sleepSeconds": 20}',
    });
    await call("POST", `/api/v1/jobs/${sleeper.name}/stop`, "/jobs/{jobName}/stop");
    await call("POST", "/api/v1/jobs/stop", "/jobs/stop");
    await call("DELETE", `/api/v1/jobs/${job.name}`, "/jobs/{jobName}");
    await call("GET", `/api/v1/jobs/${job.name}`, "/jobs/{jobName}");
    await call("POST", "/api/v1/jobs", "/jobs", { backoffLimit: -1 });
    await call("POST", "/api/v1/jobs", "/jobs", { node: { gpu: "nvidia-h100" } });

    const batch = await call<BatchStatus>("POST", "/api/v1/batches", "/batches", {
      batchId: "doc",
      jobScheduleDescriptions: [{ payload: "a" }, { payload: '{"exitCode": 1}' }],
    });
    await call("GET", "/api/v1/batches", "/batches");
    const done = await call<BatchStatus>("GET", `/api/v1/batches/${batch.name}`, "/batches/{batchName}");
    await call("GET", `/api/v1/batches/${batch.name}?limit=1`, "/batches/{batchName}");
    const child = done.jobStatuses[0]!.name;
    await call("GET", `/api/v1/batches/${batch.name}/jobs/${child}`, "/batches/{batchName}/jobs/{jobName}");
    await call(
      "POST",
      `/api/v1/batches/${batch.name}/jobs/${child.slice(-8)}/stop`,
      "/batches/{batchName}/jobs/{jobName}/stop",
    );
    await call("POST", `/api/v1/batches/${batch.name}/stop`, "/batches/{batchName}/stop");
    await call("POST", "/api/v1/batches/stop", "/batches/stop");
    await call("DELETE", `/api/v1/batches/${batch.name}`, "/batches/{batchName}");
    await call("GET", `/api/v1/batches/${batch.name}`, "/batches/{batchName}");
    await call("POST", "/api/v1/batches", "/batches", { jobScheduleDescriptions: [] });
  });

  /**
   * Radix's published models (equinor/radix-operator job-scheduler swagger.json): every field a Radix
   * client knows is in our model with the same JSON type, so clients generated from either work.
   */
  const radixModels: Record<string, Record<string, string>> = {
    JobStatus: {
      name: "string",
      jobId: "string",
      batchName: "string",
      batchId: "string",
      created: "string",
      started: "string",
      ended: "string",
      updated: "string",
      status: "string",
      message: "string",
      failed: "integer",
      restart: "string",
      podStatuses: "array",
    },
    BatchStatus: {
      name: "string",
      batchId: "string",
      created: "string",
      status: "string",
      batchType: "string",
      jobStatuses: "array",
    },
    PodStatus: {
      name: "string",
      created: "string",
      startTime: "string",
      endTime: "string",
      containerStarted: "string",
      replicaStatus: "object",
      image: "string",
      imageId: "string",
      podIndex: "integer",
      exitCode: "integer",
      reason: "string",
      statusMessage: "string",
      restartCount: "integer",
    },
    Status: { status: "string", message: "string", reason: "string", code: "integer" },
    JobScheduleDescription: {
      payload: "string",
      jobId: "string",
      imageTagName: "string",
      image: "string",
      timeLimitSeconds: "integer",
      backoffLimit: "integer",
      resources: "object",
      node: "object",
      variables: "object",
      command: "array",
      args: "array",
      failurePolicy: "object",
      runtime: "object",
      runAsUser: "integer",
      safeToRestart: "boolean",
    },
    BatchScheduleDescription: {
      batchId: "string",
      defaultRadixJobComponentConfig: "object",
      jobScheduleDescriptions: "array",
    },
    Node: { gpu: "string", gpuCount: "string" },
    Resources: { limits: "object", requests: "object" },
  };

  const typesOf = (schema: Schema | undefined): string[] => {
    if (!schema) return [];
    if (schema.$ref) return typesOf(document.components.schemas[schema.$ref.split("/").pop()!]);
    if (schema.anyOf) return schema.anyOf.flatMap(typesOf);
    if (schema.type) return Array.isArray(schema.type) ? schema.type : [schema.type];
    return schema.properties ? ["object"] : [];
  };

  it.each(Object.entries(radixModels))("keeps Radix's %s fields and their types", (model, fields) => {
    const schema = document.components.schemas[model];
    expect(schema, model).toBeDefined();
    for (const [field, type] of Object.entries(fields)) {
      const types = typesOf(schema!.properties?.[field]);
      expect(
        { field, ok: types.includes(type) || (type === "integer" && types.includes("number")) },
        `${model}.${field}: ${types}`,
      ).toEqual({ field, ok: true });
    }
  });
});
