import type { ComponentSettings, ProjectSettings, QueueSettings } from "../config/runtime.js";
import type { Architecture } from "../config/schema.js";
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
  /** May run on reclaimable (Spot) capacity: true → the Spot queue, false → on-demand, absent → the compute's default. */
  preemptible?: boolean;
  /** Fair-share project; the job's share identifier (default: the component). */
  project?: string;
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
  /** AWS Batch share identifier: the project, else the job component. Absent in records from before projects. */
  shareIdentifier?: string;
  command?: string[];
  args?: string[];
  variables: Record<string, string>;
  failurePolicy?: JobSpecInput["failurePolicy"];
  /** SubmitJob schedulingPriorityOverride; absent: the job definition's (0). */
  priority?: number;
  /**
   * The consumable resource of the project's maxRunningJobs: each job of the project takes 1 of it while it
   * runs (lib/batch/submit-input.ts). Kept with the spec, so later runs of a job name what its first did.
   */
  projectLimit?: string;
}

/**
 * Raised for a request this deployment could never run: an unknown GPU type, more GPUs than any instance
 * has, an architecture, node type or capacity no queue offers, an unknown project.
 */
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
      "preemptible",
      "project",
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

/** What a request asks of the queue (already merged over the component's defaults). */
export interface QueueRequest {
  /** `node.gpu`: comma list of GPU types, `-type` excludes one. */
  gpu?: string;
  /** GPUs wanted; 0 for a CPU job. */
  gpuCount: number;
  /** Default amd64 (Radix), unless `nodeType` names an instance type, which then decides. */
  architecture?: Architecture;
  /** An EC2 instance type (`g5.2xlarge`) or family (`c7g`) one of the queue's compute environments launches. */
  nodeType?: string;
  preemptible?: boolean;
}

const isGpuQueue = (queue: QueueSettings) => queue.gpuTypes.length > 0;
const familyOf = (instanceType: string) => instanceType.split(".")[0]!;
const unique = (values: readonly string[]) => [...new Set(values)];
const listed = (values: readonly string[]) => unique(values).join(", ") || "none";

/**
 * Whether a queue's compute environment can launch `nodeType`: a size is offered when the size or its
 * family is configured, a family when it or one of its sizes is. Batch chooses among the configured
 * types, so a size is pinned only by a compute that lists just that size.
 */
function offersNodeType(queue: QueueSettings, nodeType: string): boolean {
  return queue.instanceTypes.some((type) =>
    nodeType.includes(".") ? type === nodeType || type === familyOf(nodeType) : familyOf(type) === nodeType,
  );
}

/**
 * The job queue for a request, in configuration order after these filters, each refusing with its own
 * message when nothing is left:
 * 1. `runtime.nodeType`: the queues whose compute launches that instance type; a GPU instance type makes
 *    the job a GPU job (at least one GPU).
 * 2. CPU queues for a CPU job; for a GPU job the GPU families offering one of the wanted types and none
 *    of the excluded ones.
 * 3. `runtime.architecture` (amd64 unless given or decided by nodeType).
 * 4. At least `gpuCount` GPUs on one instance.
 * 5. `preemptible`: true → Spot queues, false → on-demand ones; absent → the first compute's default
 *    (its on-demand queue when it has both, as that comes first).
 */
export function selectQueue(queues: readonly QueueSettings[], request: QueueRequest): QueueSettings {
  const { include, exclude } = parseGpuList(request.gpu);
  const nodeType = request.nodeType || undefined;
  let wantsGpu = include.size > 0 || request.gpuCount > 0;
  let candidates = [...queues];
  if (nodeType) {
    candidates = queues.filter((queue) => offersNodeType(queue, nodeType));
    if (candidates.length === 0) {
      throw new ImpossibleSpecError(
        `runtime.nodeType '${nodeType}' matches no configured instance type (offered: ${listed(queues.flatMap((queue) => queue.instanceTypes))})`,
      );
    }
    if (!wantsGpu && candidates.every(isGpuQueue)) wantsGpu = true;
    if (wantsGpu && !candidates.some(isGpuQueue)) {
      throw new ImpossibleSpecError(
        `runtime.nodeType '${nodeType}' has no GPUs, but node.gpu or node.gpuCount asks for them`,
      );
    }
  }
  if (!wantsGpu) {
    candidates = candidates.filter((queue) => !isGpuQueue(queue));
    if (candidates.length === 0) throw new ImpossibleSpecError("no CPU job queue is configured");
  } else {
    const gpuQueues = candidates.filter(isGpuQueue);
    candidates = gpuQueues.filter((queue) => {
      const types = queue.gpuTypes.map((type) => type.toLowerCase());
      if (types.some((type) => exclude.has(type))) return false;
      return include.size === 0 || types.some((type) => include.has(type));
    });
    if (candidates.length === 0) {
      throw new ImpossibleSpecError(
        `node.gpu '${request.gpu ?? ""}' matches no configured GPU type (offered: ${listed(gpuQueues.flatMap((queue) => queue.gpuTypes))})`,
      );
    }
  }
  const architecture = request.architecture ?? (nodeType ? undefined : "amd64");
  if (architecture) {
    const matching = candidates.filter((queue) => queue.architecture === architecture);
    if (matching.length === 0) {
      const computeKind = !wantsGpu
        ? "CPU compute"
        : include.size > 0
          ? `GPU family offering node.gpu '${request.gpu}'`
          : "GPU family";
      const offered = listed(candidates.map((queue) => queue.architecture));
      throw new ImpossibleSpecError(
        nodeType
          ? `runtime.architecture '${architecture}' does not match runtime.nodeType '${nodeType}' (${offered})`
          : `runtime.architecture '${architecture}' is not offered by any configured ${computeKind} (offered: ${offered})`,
      );
    }
    candidates = matching;
  }
  if (wantsGpu) {
    const gpus = Math.max(request.gpuCount, 1);
    const fits = candidates.filter((queue) => queue.maxGpusPerInstance >= gpus);
    if (fits.length === 0) {
      const most = Math.max(...candidates.map((queue) => queue.maxGpusPerInstance));
      throw new ImpossibleSpecError(
        `node.gpuCount ${request.gpuCount} is more than any matching instance has (at most ${most})`,
      );
    }
    candidates = fits;
  }
  if (request.preemptible !== undefined) {
    const capacity = request.preemptible ? "spot" : "onDemand";
    const matching = candidates.filter((queue) => queue.capacity === capacity);
    if (matching.length === 0) {
      const computes = listed(candidates.map((queue) => queue.key));
      throw new ImpossibleSpecError(
        request.preemptible
          ? `preemptible: true, but no Spot capacity is configured for ${computes}`
          : `preemptible: false, but ${computes} ${candidates.length > 1 ? "have" : "has"} only Spot capacity`,
      );
    }
    candidates = matching;
  }
  return candidates[0]!;
}

/** Where jobs can go: the queues and the fair-share projects (a RuntimeConfig has both). */
export interface Placement {
  queues: readonly QueueSettings[];
  /** When non-empty, `project` must name one of these. */
  projects?: readonly ProjectSettings[];
}

/** Applies defaults and maps resources and GPUs onto AWS Batch terms. Throws ImpossibleSpecError. */
export function effectiveSpec(
  component: ComponentSettings,
  placement: Placement,
  ...layers: (JobSpecInput | undefined)[]
): EffectiveSpec {
  const componentLayer: JobSpecInput = {
    imageTagName: component.imageTagName,
    timeLimitSeconds: component.timeLimitSeconds,
    backoffLimit: component.backoffLimit,
    resources: component.resources,
    node: component.node,
    runtime: component.runtime,
    variables: component.variables,
    command: component.command,
    args: component.args,
    failurePolicy: component.failurePolicy,
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
  const queue = selectQueue(placement.queues, {
    gpu: spec.node?.gpu,
    gpuCount: wantsGpu ? Math.max(requestedGpus ?? 1, 1) : 0,
    architecture: spec.runtime?.architecture as Architecture | undefined,
    nodeType: spec.runtime?.nodeType,
    preemptible: spec.preemptible,
  });
  // A GPU queue only when GPUs were asked for or nodeType named a GPU instance (then one GPU).
  const gpuCount = queue.gpuTypes.length > 0 ? Math.max(requestedGpus ?? 1, 1) : 0;
  const projects = placement.projects ?? [];
  if (
    spec.project !== undefined &&
    projects.length > 0 &&
    !projects.some((project) => project.name === spec.project)
  ) {
    throw new ImpossibleSpecError(
      `project '${spec.project}' is not configured (known: ${projects.map((project) => project.name).join(", ")})`,
    );
  }
  return {
    imageTagName: spec.imageTagName ?? component.imageTagName,
    image: spec.image,
    timeLimitSeconds: spec.timeLimitSeconds ?? component.timeLimitSeconds,
    backoffLimit: spec.backoffLimit ?? component.backoffLimit,
    vcpus,
    memoryMiB,
    gpuCount,
    queueKey: queue.key,
    shareIdentifier: spec.project ?? component.name,
    command: spec.command,
    args: spec.args,
    variables: spec.variables ?? {},
    failurePolicy: spec.failurePolicy,
    priority: spec.priority,
    projectLimit: projects.find((project) => project.name === spec.project)?.consumableResource,
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
