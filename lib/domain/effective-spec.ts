import type { ComponentSettings, QueueSettings } from "../config/runtime.js";
import { parseQuantity, toBatchVcpus, toMebibytes } from "./quantity.js";

/** The fields of a request that shape how a job runs (Radix JobScheduleDescription minus payload/jobId). */
export interface JobSpecInput {
  imageTagName?: string;
  image?: string;
  timeLimitSeconds?: number;
  backoffLimit?: number;
  resources?: { limits?: { cpu?: string; memory?: string }; requests?: { cpu?: string; memory?: string } };
  node?: { gpu?: string; gpuCount?: string | number };
  variables?: Record<string, string>;
  command?: string[];
  args?: string[];
  failurePolicy?: { rules: { action: string; onExitCodes: { operator: string; values: number[] } }[] };
  runtime?: { architecture?: string; nodeType?: string };
  /** AWS Batch scheduling priority (0..9999, higher first within a share). */
  priority?: number;
}

/** How one job runs on AWS Batch, after defaults are applied. Equal specs share one array job. */
export interface EffectiveSpec {
  imageTagName: string;
  image?: string;
  timeLimitSeconds: number;
  backoffLimit: number;
  vcpus: number;
  memoryMiB: number;
  gpuCount: number;
  queueKey: string;
  command?: string[];
  args?: string[];
  variables: Record<string, string>;
  failurePolicy?: JobSpecInput["failurePolicy"];
  /** SubmitJob schedulingPriorityOverride; absent: the job definition's (0). */
  priority?: number;
}

/** Raised for a request AWS Batch could never run (unknown GPU type, more GPUs than any instance has). */
export class ImpossibleSpecError extends Error {
  override name = "ImpossibleSpecError";
}

/** Default resources when neither the request nor the component sets them. */
const DEFAULT_VCPUS = 1;
const DEFAULT_MEMORY_MIB = 512;
/** The largest sizes we accept; no Batch instance offers more (p5.48xlarge: 192 vCPUs, 2 TiB). */
const MAX_VCPUS = 192;
const MAX_MEMORY_MIB = 2 * 1024 * 1024;

const mergeList = (...lists: ({ cpu?: string; memory?: string } | undefined)[]) =>
  Object.assign({}, ...lists.filter(Boolean)) as { cpu?: string; memory?: string };

/**
 * Merges layers field by field, later layers winning: the component's configuration, then the batch's
 * defaultRadixJobComponentConfig, then the job's own description. `resources.limits/requests` and `node`
 * merge per key, `variables` per variable; `command` and `args` are replaced whole.
 */
export function mergeSpecs(...layers: (JobSpecInput | undefined)[]): JobSpecInput {
  const merged: JobSpecInput = {};
  for (const layer of layers) {
    if (!layer) continue;
    for (const key of [
      "imageTagName",
      "image",
      "timeLimitSeconds",
      "backoffLimit",
      "command",
      "args",
      "failurePolicy",
      "priority",
    ] as const) {
      if (layer[key] !== undefined) (merged as Record<string, unknown>)[key] = layer[key];
    }
    if (layer.resources) {
      merged.resources = {
        limits: mergeList(merged.resources?.limits, layer.resources.limits),
        requests: mergeList(merged.resources?.requests, layer.resources.requests),
      };
    }
    if (layer.node) merged.node = { ...merged.node, ...layer.node };
    if (layer.variables) merged.variables = { ...merged.variables, ...layer.variables };
    if (layer.runtime) merged.runtime = { ...merged.runtime, ...layer.runtime };
  }
  return merged;
}

function parseGpuList(text: string | undefined) {
  const include = new Set<string>();
  const exclude = new Set<string>();
  for (const raw of (text ?? "").split(",")) {
    const name = raw.trim().toLowerCase();
    if (!name) continue;
    if (name.startsWith("-")) exclude.add(name.slice(1).trim());
    else include.add(name);
  }
  return { include, exclude };
}

/**
 * The job queue for a GPU request: the first configured GPU family that offers one of the wanted types,
 * none of the excluded ones, and at least `gpuCount` GPUs on one instance.
 */
export function selectQueue(
  queues: readonly QueueSettings[],
  gpu: string | undefined,
  gpuCount: number,
): QueueSettings {
  const { include, exclude } = parseGpuList(gpu);
  if (include.size === 0 && gpuCount === 0) {
    const cpu = queues.find((queue) => queue.gpuTypes.length === 0);
    if (!cpu) throw new ImpossibleSpecError("no CPU job queue is configured");
    return cpu;
  }
  const gpuQueues = queues.filter((queue) => queue.gpuTypes.length > 0);
  const typeMatches = gpuQueues.filter((queue) => {
    const types = queue.gpuTypes.map((type) => type.toLowerCase());
    if (types.some((type) => exclude.has(type))) return false;
    return include.size === 0 || types.some((type) => include.has(type));
  });
  if (typeMatches.length === 0) {
    const offered = gpuQueues.flatMap((queue) => queue.gpuTypes).join(", ") || "none";
    throw new ImpossibleSpecError(
      `node.gpu '${gpu ?? ""}' matches no configured GPU type (offered: ${offered})`,
    );
  }
  const fits = typeMatches.find((queue) => queue.maxGpusPerInstance >= Math.max(gpuCount, 1));
  if (!fits) {
    const most = Math.max(...typeMatches.map((queue) => queue.maxGpusPerInstance));
    throw new ImpossibleSpecError(
      `node.gpuCount ${gpuCount} is more than any matching instance has (at most ${most})`,
    );
  }
  return fits;
}

/** Applies defaults and maps resources and GPUs onto AWS Batch terms. Throws ImpossibleSpecError. */
export function effectiveSpec(
  component: ComponentSettings,
  queues: readonly QueueSettings[],
  ...layers: (JobSpecInput | undefined)[]
): EffectiveSpec {
  const componentLayer: JobSpecInput = {
    imageTagName: component.imageTagName,
    timeLimitSeconds: component.timeLimitSeconds,
    backoffLimit: component.backoffLimit,
    resources: component.resources,
    node: component.node,
    variables: component.variables,
  };
  const spec = mergeSpecs(componentLayer, ...layers);
  const cpuText = spec.resources?.limits?.cpu ?? spec.resources?.requests?.cpu;
  const memoryText = spec.resources?.limits?.memory ?? spec.resources?.requests?.memory;
  const vcpus = cpuText ? toBatchVcpus(parseQuantity(cpuText) ?? DEFAULT_VCPUS) : DEFAULT_VCPUS;
  const memoryMiB = memoryText
    ? Math.max(4, toMebibytes(parseQuantity(memoryText) ?? 0))
    : DEFAULT_MEMORY_MIB;
  if (vcpus > MAX_VCPUS)
    throw new ImpossibleSpecError(`resources cpu ${cpuText} is more than ${MAX_VCPUS} vCPUs`);
  if (memoryMiB > MAX_MEMORY_MIB)
    throw new ImpossibleSpecError(`resources memory ${memoryText} is more than 2Ti`);
  const requestedGpus = spec.node?.gpuCount === undefined ? undefined : Number(spec.node.gpuCount);
  const wantsGpu = Boolean(spec.node?.gpu?.replace(/[\s,]/g, "")) || (requestedGpus ?? 0) > 0;
  const gpuCount = wantsGpu ? Math.max(requestedGpus ?? 1, 1) : 0;
  const queue = selectQueue(queues, spec.node?.gpu, gpuCount);
  return {
    imageTagName: spec.imageTagName ?? component.imageTagName,
    image: spec.image,
    timeLimitSeconds: spec.timeLimitSeconds ?? component.timeLimitSeconds,
    backoffLimit: spec.backoffLimit ?? component.backoffLimit,
    vcpus,
    memoryMiB,
    gpuCount,
    queueKey: queue.key,
    command: spec.command,
    args: spec.args,
    variables: spec.variables ?? {},
    failurePolicy: spec.failurePolicy,
    priority: spec.priority,
  };
}

/** A stable key: jobs whose specs have equal keys can run as children of one array job. */
export function specKey(spec: EffectiveSpec): string {
  const sorted = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sorted);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [k, sorted(v)]),
      );
    }
    return value;
  };
  return JSON.stringify(sorted(spec));
}
