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
  const secrets = secretList(raw.secrets, `${at}.secrets`);
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
    secrets,
    raw,
  };
}

/** `secrets` entries: `{name, valueFrom}`, as RegisterJobDefinition requires them. */
export function secretList(value: unknown, at: string): { name: string; valueFrom: string }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw clientError(`${at} must be a list`);
  return value.map((entry, index) => {
    if (
      !isObject(entry) ||
      typeof entry.name !== "string" ||
      typeof entry.valueFrom !== "string" ||
      !entry.valueFrom
    )
      throw clientError(`${at}[${index}] needs a name and a valueFrom`);
    return { name: entry.name, valueFrom: entry.valueFrom };
  });
}

/**
 * Task volumes: their names, and where EFS ones live locally (a folder per file system and access point
 * or root directory, under the emulator's data dir). Refuses what RegisterJobDefinition refuses: an access
 * point with a root directory other than /, IAM authorization or an access point without transit encryption.
 */
export function volumesOf(list: unknown) {
  const volumes: string[] = [];
  const sharedVolumes: Record<string, string> = {};
  for (const volume of (Array.isArray(list) ? list : []).filter(isObject)) {
    const name = String(volume.name);
    volumes.push(name);
    const efs = volume.efsVolumeConfiguration;
    if (!isObject(efs)) continue;
    const fileSystemId = String(efs.fileSystemId ?? "");
    if (!/^fs-[0-9a-f]+$/.test(fileSystemId))
      throw clientError(`volume ${name}: efsVolumeConfiguration.fileSystemId is invalid`);
    const auth = isObject(efs.authorizationConfig) ? efs.authorizationConfig : {};
    const root = typeof efs.rootDirectory === "string" ? efs.rootDirectory : "/";
    if (auth.accessPointId && root !== "/")
      throw clientError(`volume ${name}: with an access point, rootDirectory must be omitted or /`);
    if ((auth.accessPointId || auth.iam === "ENABLED") && efs.transitEncryption !== "ENABLED")
      throw clientError(`volume ${name}: IAM authorization and access points need transitEncryption ENABLED`);
    const segments = auth.accessPointId
      ? ["efs", fileSystemId, "access-points", String(auth.accessPointId)]
      : ["efs", fileSystemId, "root", ...root.split("/").filter((part) => part && part !== "..")];
    sharedVolumes[name] = segments.join("/");
  }
  return { volumes, sharedVolumes };
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
    return {
      kind: "container",
      containers: [containerSpec(raw, DEFAULT_CONTAINER, true, override, parameters)],
      ...volumesOf(raw.volumes),
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
  return {
    kind: "ecs",
    containers: rawContainers.map((raw) => {
      const name = String(raw.name ?? DEFAULT_CONTAINER);
      return containerSpec(raw, name, true, overrides.get(name), parameters);
    }),
    ...volumesOf(task.volumes),
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
