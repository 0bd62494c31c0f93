import { randomUUID } from "node:crypto";
import { ChildTable } from "./child-table.js";
import type { ConsumableResources } from "./consumable-resources.js";
import type { DefinitionRegistry } from "./definitions.js";
import { clientError } from "./errors.js";
import { buildTaskSpec } from "./task-spec.js";
import type { JobRecord } from "./types.js";
import {
  isObject,
  type Json,
  LIMITS,
  optionalInteger,
  optionalObject,
  optionalString,
  requireString,
  retryStrategyOf,
  schedulingPriorityOf,
  stringMap,
  tagMap,
  timeoutOf,
  validateName,
} from "./validation.js";

const QUEUE_ARN = /^arn:aws[a-z-]*:batch:[^:]*:[^:]*:job-queue\/(.+)$/;

export interface SubmitContext {
  definitions: DefinitionRegistry;
  resources?: ConsumableResources;
  queues: ReadonlySet<string>;
  nextSeq: () => number;
}

/**
 * Checks a SubmitJob request the way AWS Batch does and turns it into a new job record in SUBMITTED:
 * quotas (30 KiB request, array size 2..10000, attempts 1..10, at most 5 evaluateOnExit rules, timeout
 * at least 60 s), the job name format, the queue and an ACTIVE job definition.
 */
export function createJob(input: Json, bodyBytes: number, context: SubmitContext): JobRecord {
  if (bodyBytes > LIMITS.submitJobBytes)
    throw clientError(
      `SubmitJob request is ${bodyBytes} bytes; the maximum is 30 KiB (${LIMITS.submitJobBytes} bytes). Pass large data by reference (S3 key) in parameters or environment`,
    );
  const jobName = requireString(input, "jobName");
  validateName(jobName, "jobName");
  const queueRef = requireString(input, "jobQueue");
  const queue = QUEUE_ARN.exec(queueRef)?.[1] ?? queueRef;
  if (!context.queues.has(queue)) throw clientError(`Job queue ${queueRef} does not exist`);
  const definitionRef = requireString(input, "jobDefinition");
  const definition = context.definitions.resolve(definitionRef);
  const body = definition.body;

  const arrayProperties = optionalObject(input, "arrayProperties");
  const size = arrayProperties ? optionalInteger(arrayProperties, "size") : undefined;
  if (size !== undefined && (size < LIMITS.arraySize.min || size > LIMITS.arraySize.max))
    throw clientError(
      `arrayProperties.size must be between ${LIMITS.arraySize.min} and ${LIMITS.arraySize.max} (got ${size}); submit a single job without arrayProperties instead of an array of 1`,
    );
  const retryStrategy = retryStrategyOf(input.retryStrategy) ?? retryStrategyOf(body.retryStrategy);
  const timeout = timeoutOf(input.timeout) ?? timeoutOf(body.timeout);
  const parameters = {
    ...stringMap(body.parameters, "parameters"),
    ...stringMap(input.parameters, "parameters"),
  };
  const tags = tagMap(input.tags, "tags");
  const dependsOn = input.dependsOn;
  if (dependsOn !== undefined && dependsOn !== null && (!Array.isArray(dependsOn) || dependsOn.length > 20))
    throw clientError("dependsOn must be a list of at most 20 job dependencies");
  const priority =
    schedulingPriorityOf(input, "schedulingPriorityOverride") ??
    schedulingPriorityOf(body, "schedulingPriority");
  const shareIdentifier = optionalString(input, "shareIdentifier");
  const propagateTags = input.propagateTags ?? body.propagateTags;
  const task = buildTaskSpec(body, input, parameters);
  const consumableResources = context.resources?.requirementsOf(input);
  const now = Date.now();
  return {
    jobId: randomUUID(),
    jobName,
    queue,
    seq: context.nextSeq(),
    createdAt: now,
    status: "SUBMITTED",
    attempts: [],
    definition: {
      arn: context.definitions.arnOf(definition),
      name: definition.name,
      revision: definition.revision,
    },
    task,
    overrides: Object.fromEntries(
      ["containerOverrides", "ecsPropertiesOverride"].flatMap((key) =>
        input[key] === undefined || input[key] === null ? [] : [[key, input[key]]],
      ),
    ),
    parameters,
    ...(tags ? { tags } : {}),
    ...(typeof propagateTags === "boolean" ? { propagateTags } : {}),
    ...(retryStrategy ? { retryStrategy } : {}),
    ...(timeout ? { timeout } : {}),
    ...(priority !== undefined ? { schedulingPriority: priority } : {}),
    ...(shareIdentifier !== undefined ? { shareIdentifier } : {}),
    ...(Array.isArray(dependsOn) && dependsOn.length ? { dependsOn: dependsOn.filter(isObject) } : {}),
    platformCapabilities: Array.isArray(body.platformCapabilities)
      ? (body.platformCapabilities as string[])
      : ["EC2"],
    ...(size !== undefined ? { array: new ChildTable(size, now) } : {}),
    ...(consumableResources ? { consumableResources } : {}),
  };
}
