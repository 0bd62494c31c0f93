import { clientError } from "./errors.js";
import { jobDefinitionArn, type Naming } from "./paths.js";
import { secretList, volumesOf } from "./task-spec.js";
import {
  environmentList,
  isObject,
  type Json,
  LIMITS,
  optionalObject,
  requireString,
  retryStrategyOf,
  schedulingPriorityOf,
  stringList,
  tagMap,
  timeoutOf,
  validateName,
} from "./validation.js";

export interface DefinitionRecord {
  name: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE";
  /** The RegisterJobDefinition input, as sent (camelCase). */
  body: Json;
}

const ARN = /^arn:aws[a-z-]*:batch:[^:]*:[^:]*:job-definition\/([^:]+)(?::(\d+))?$/;

/** Job definitions by name and revision: RegisterJobDefinition, DescribeJobDefinitions, resolving refs. */
export class DefinitionRegistry {
  private readonly byName = new Map<string, DefinitionRecord[]>();

  constructor(private readonly naming: Naming) {}

  arnOf(record: DefinitionRecord) {
    return jobDefinitionArn(this.naming, record.name, record.revision);
  }

  /**
   * RegisterJobDefinition. `systemTags` are the tags AWS itself puts on a definition (CloudFormation's
   * `aws:cloudformation:*`): never accepted from a caller, only from {@link BatchEmulator.provisionJobDefinition}.
   */
  register(input: Json, bodyBytes: number, systemTags: Record<string, string> = {}) {
    const name = requireString(input, "jobDefinitionName");
    validateName(name, "jobDefinitionName");
    if (bodyBytes > LIMITS.jobDefinitionBytes)
      throw clientError(
        `Job definition is ${bodyBytes} bytes; the maximum is 24 KiB (${LIMITS.jobDefinitionBytes})`,
      );
    const type = requireString(input, "type");
    if (type !== "container")
      throw clientError(`type ${type} is not supported by the local emulator (container)`);
    const container = optionalObject(input, "containerProperties");
    const ecs = optionalObject(input, "ecsProperties");
    if (!container === !ecs)
      throw clientError(
        "A container job definition needs exactly one of containerProperties or ecsProperties",
      );
    if (container) {
      checkContainer(container, "containerProperties");
      volumesOf(container.volumes);
    }
    if (ecs) {
      const tasks = ecs.taskProperties;
      if (!Array.isArray(tasks) || tasks.length !== 1 || !isObject(tasks[0]))
        throw clientError("ecsProperties.taskProperties must hold exactly one task");
      const containers = tasks[0].containers;
      if (!Array.isArray(containers) || containers.length < 1 || containers.length > 10)
        throw clientError("ecsProperties.taskProperties[0].containers must hold 1 to 10 containers");
      const names = new Set<string>();
      containers.forEach((entry, index) => {
        const at = `ecsProperties.taskProperties[0].containers[${index}]`;
        if (!isObject(entry)) throw clientError(`${at} must be an object`);
        const containerName = typeof entry.name === "string" ? entry.name : "";
        if (containers.length > 1 && !containerName) throw clientError(`${at}.name is required`);
        if (names.has(containerName)) throw clientError(`${at}: duplicate container name ${containerName}`);
        names.add(containerName);
        checkContainer(entry, at);
      });
      if (!containers.some((entry) => isObject(entry) && entry.essential !== false))
        throw clientError("At least one container of the task must be essential");
      volumesOf(tasks[0].volumes);
    }
    const tags = { ...tagMap(input.tags, "tags"), ...systemTags };
    retryStrategyOf(input.retryStrategy);
    timeoutOf(input.timeout);
    schedulingPriorityOf(input, "schedulingPriority");
    const revisions = this.byName.get(name) ?? [];
    const { jobDefinitionName: _, tags: _tags, ...rest } = input;
    const body = Object.keys(tags).length ? { ...rest, tags } : rest;
    const record: DefinitionRecord = { name, revision: revisions.length + 1, status: "ACTIVE", body };
    revisions.push(record);
    this.byName.set(name, revisions);
    return { jobDefinitionName: name, jobDefinitionArn: this.arnOf(record), revision: record.revision };
  }

  /** `name` (latest ACTIVE revision), `name:rev` or an ARN; refuses unknown and INACTIVE revisions. */
  resolve(ref: string): DefinitionRecord {
    const { name, revision } = parseRef(ref);
    const revisions = this.byName.get(name) ?? [];
    const record =
      revision === undefined
        ? revisions.filter((entry) => entry.status === "ACTIVE").at(-1)
        : revisions.find((entry) => entry.revision === revision && entry.status === "ACTIVE");
    if (!record) throw clientError(`Job definition ${ref} does not exist or is not ACTIVE`);
    return record;
  }

  /** A revision whatever its status (jobs keep running on a deregistered revision). */
  get(name: string, revision: number): DefinitionRecord | undefined {
    return this.byName.get(name)?.find((entry) => entry.revision === revision);
  }

  deregister(ref: string) {
    const { name, revision } = parseRef(ref);
    const record = this.byName.get(name)?.find((entry) => entry.revision === revision);
    if (!record || revision === undefined) throw clientError(`Job definition ${ref} does not exist`);
    record.status = "INACTIVE";
  }

  describe(input: Json) {
    const refs = stringList(input.jobDefinitions, "jobDefinitions");
    if (refs && refs.length > 100) throw clientError("jobDefinitions can list at most 100 job definitions");
    const nameFilter = typeof input.jobDefinitionName === "string" ? input.jobDefinitionName : undefined;
    const status = typeof input.status === "string" ? input.status : undefined;
    let records = [...this.byName.values()].flat();
    if (refs?.length) {
      const wanted = refs.map(parseRef);
      records = records.filter((record) =>
        wanted.some(
          (ref) =>
            ref.name === record.name && (ref.revision === undefined || ref.revision === record.revision),
        ),
      );
    }
    if (nameFilter) records = records.filter((record) => record.name === nameFilter);
    if (status) records = records.filter((record) => record.status === status);
    return records.map((record) => this.toJobDefinition(record));
  }

  toJobDefinition(record: DefinitionRecord) {
    return {
      ...record.body,
      jobDefinitionName: record.name,
      jobDefinitionArn: this.arnOf(record),
      revision: record.revision,
      status: record.status,
      containerOrchestrationType: "ECS",
    };
  }

  toJSON(): DefinitionRecord[] {
    return [...this.byName.values()].flat();
  }

  load(records: DefinitionRecord[]) {
    for (const record of records) {
      const revisions = this.byName.get(record.name) ?? [];
      revisions.push(record);
      revisions.sort((a, b) => a.revision - b.revision);
      this.byName.set(record.name, revisions);
    }
  }
}

function parseRef(ref: string): { name: string; revision?: number } {
  const arn = ARN.exec(ref);
  const [name, revision] = arn ? [arn[1]!, arn[2]] : (ref.split(":") as [string, string | undefined]);
  if (revision !== undefined && !/^\d+$/.test(revision))
    throw clientError(`Job definition ${ref} is invalid`);
  return revision === undefined ? { name } : { name, revision: Number(revision) };
}

function checkContainer(container: Json, at: string) {
  stringList(container.command, `${at}.command`);
  environmentList(container.environment, `${at}.environment`);
  secretList(container.secrets, `${at}.secrets`);
}
