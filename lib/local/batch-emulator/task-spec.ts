import { clientError } from "./errors.js";
import type { ContainerSpec, KeyValue, TaskSpec } from "./types.js";
import { environmentList, isObject, type Json, stringList } from "./validation.js";

/** The single container of a containerProperties job is called "default", as in its log stream name. */
export const DEFAULT_CONTAINER = "default";

interface Override {
  name?: string;
  command?: string[];
  environment?: KeyValue[];
  resourceRequirements?: { type: string; value: string }[];
}

function overrideOf(value: unknown, at: string): Override {
  if (!isObject(value)) throw clientError(`${at} must be an object`);
  return {
    name: typeof value.name === "string" ? value.name : undefined,
    command: stringList(value.command, `${at}.command`),
    environment: environmentList(value.environment, `${at}.environment`),
    resourceRequirements: Array.isArray(value.resourceRequirements)
      ? (value.resourceRequirements as { type: string; value: string }[])
      : undefined,
  };
}

/** Replaces `Ref::name` placeholders in the command with parameter values, as AWS Batch does. */
const substitute = (command: string[], parameters: Record<string, string>) =>
  command.map((arg) =>
    arg.replace(/Ref::([A-Za-z0-9_]+)/g, (whole, name: string) => parameters[name] ?? whole),
  );

function mergeByKey<T>(base: T[], extra: T[] | undefined, key: (item: T) => string): T[] {
  if (!extra) return base;
  const merged = new Map(base.map((item) => [key(item), item]));
  for (const item of extra) merged.set(key(item), item);
  return [...merged.values()];
}

function containerSpec(
  raw: Json,
  name: string,
  essentialDefault: boolean,
  override: Override | undefined,
  parameters: Record<string, string>,
): ContainerSpec {
  const at = `container ${name}`;
  const mountPoints = (Array.isArray(raw.mountPoints) ? raw.mountPoints : [])
    .filter(isObject)
    .map((mount) => ({
      sourceVolume: String(mount.sourceVolume ?? ""),
      containerPath: String(mount.containerPath ?? ""),
    }));
  if (mountPoints.some((mount) => !mount.containerPath.startsWith("/")))
    throw clientError(`${at}: mountPoints[].containerPath must be an absolute path`);
  return {
    name,
    command: substitute(override?.command ?? stringList(raw.command, `${at}.command`) ?? [], parameters),
    environment: mergeByKey(
      environmentList(raw.environment, `${at}.environment`) ?? [],
      override?.environment,
      (entry) => entry.name,
    ),
    resourceRequirements: mergeByKey(
      Array.isArray(raw.resourceRequirements)
        ? (raw.resourceRequirements as ContainerSpec["resourceRequirements"])
        : [],
      override?.resourceRequirements,
      (entry) => entry.type,
    ),
    essential: typeof raw.essential === "boolean" ? raw.essential : essentialDefault,
    dependsOn: (Array.isArray(raw.dependsOn) ? raw.dependsOn : []).filter(isObject).map((dependency) => ({
      containerName: String(dependency.containerName ?? ""),
      condition: String(dependency.condition ?? "START").toUpperCase(),
    })),
    mountPoints,
    raw,
  };
}

/**
 * What runs for a job: the definition's containers with the submission's overrides applied
 * (`containerOverrides` for containerProperties, `ecsPropertiesOverride` matched by container name for
 * ecsProperties) and `Ref::` parameters substituted in commands.
 */
export function buildTaskSpec(
  definition: Json,
  submission: Json,
  parameters: Record<string, string>,
): TaskSpec {
  const containerOverrides = submission.containerOverrides;
  const ecsOverride = submission.ecsPropertiesOverride;
  if (isObject(definition.containerProperties)) {
    if (ecsOverride !== undefined && ecsOverride !== null)
      throw clientError(
        "ecsPropertiesOverride can't be used with a job definition that has containerProperties",
      );
    const override =
      containerOverrides === undefined || containerOverrides === null
        ? undefined
        : overrideOf(containerOverrides, "containerOverrides");
    const raw = definition.containerProperties;
    const volumes = (Array.isArray(raw.volumes) ? raw.volumes : [])
      .filter(isObject)
      .map((v) => String(v.name));
    return {
      kind: "container",
      containers: [containerSpec(raw, DEFAULT_CONTAINER, true, override, parameters)],
      volumes,
      raw,
    };
  }
  if (containerOverrides !== undefined && containerOverrides !== null)
    throw clientError("containerOverrides can't be used with a job definition that has ecsProperties");
  const task = (definition.ecsProperties as { taskProperties: Json[] }).taskProperties[0]!;
  const rawContainers = (task.containers as Json[]) ?? [];
  const overrides = new Map<string, Override>();
  if (ecsOverride !== undefined && ecsOverride !== null) {
    if (!isObject(ecsOverride) || !Array.isArray(ecsOverride.taskProperties))
      throw clientError("ecsPropertiesOverride.taskProperties must be a list");
    const taskOverride = ecsOverride.taskProperties[0];
    const list =
      isObject(taskOverride) && Array.isArray(taskOverride.containers) ? taskOverride.containers : [];
    list.forEach((entry, index) => {
      const override = overrideOf(entry, `ecsPropertiesOverride.taskProperties[0].containers[${index}]`);
      const name = override.name ?? (rawContainers.length === 1 ? String(rawContainers[0]!.name ?? "") : "");
      if (!rawContainers.some((container) => String(container.name ?? "") === name))
        throw clientError(
          `ecsPropertiesOverride names container "${override.name ?? ""}", which the job definition does not have`,
        );
      overrides.set(name, override);
    });
  }
  const { containers: _, ...rest } = task;
  const volumes = (Array.isArray(task.volumes) ? task.volumes : [])
    .filter(isObject)
    .map((v) => String(v.name));
  return {
    kind: "ecs",
    containers: rawContainers.map((raw) => {
      const name = String(raw.name ?? DEFAULT_CONTAINER);
      return containerSpec(raw, name, true, overrides.get(name), parameters);
    }),
    volumes,
    raw: rest,
  };
}

/** The container whose exit code is the attempt's: the last essential one (by convention "main"). */
export function mainContainer(task: TaskSpec): ContainerSpec {
  return task.containers.filter((container) => container.essential).at(-1) ?? task.containers.at(-1)!;
}

/** The log stream "container" segment: `default` for the main container, else the container's name. */
export const streamSegment = (task: TaskSpec, container: ContainerSpec) =>
  container === mainContainer(task) ? DEFAULT_CONTAINER : container.name;
