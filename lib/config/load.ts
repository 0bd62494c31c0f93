import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { z } from "zod";
import { computeQueues } from "./runtime.js";
import {
  type DeploymentConfig,
  deploymentConfigSchema,
  MAX_SHARE_IDENTIFIERS,
  MAX_WEIGHT_SPAN,
} from "./schema.js";

/** Raised when the configuration file cannot be used; the message names the file and the field. */
export class ConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConfigError";
  }
}

/** Renders zod issues as `path.to.field: problem` lines, e.g. `spec.jobs.0.schedulerPort: expected number`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const inner =
        issue.code === "invalid_key" ? issue.issues.map((nested) => nested.message).join(", ") : "";
      return `${issue.path.length ? issue.path.join(".") : "(root)"}: ${inner ? `invalid name: ${inner}` : issue.message}`;
    })
    .join("; ");
}

/** How a deployment reads its file. */
export interface LoadOptions {
  /** The Radix environment to deploy (overrides `aws.environment`). */
  environment?: string;
}

/** `raw` with `aws.environment` set to `environment`, when one is given. */
function withEnvironment(raw: unknown, environment: string | undefined): unknown {
  if (!environment || typeof raw !== "object" || raw === null) return raw;
  const aws = (raw as { aws?: unknown }).aws;
  return { ...raw, aws: { ...(typeof aws === "object" && aws !== null ? aws : {}), environment } };
}

/** Validates an already parsed configuration object. */
export function parseConfig(
  raw: unknown,
  source = "configuration",
  options: LoadOptions = {},
): DeploymentConfig {
  const result = deploymentConfigSchema.safeParse(withEnvironment(raw, options.environment));
  if (!result.success) {
    throw new ConfigError(`${source} is invalid: ${describeIssues(result.error.issues)}`);
  }
  const config = result.data;
  const seenNames = new Set<string>();
  const seenPorts = new Set<number>();
  config.spec.jobs.forEach((job, index) => {
    if (seenNames.has(job.name)) {
      throw new ConfigError(`${source} is invalid: spec.jobs.${index}.name: '${job.name}' is used twice`);
    }
    if (seenPorts.has(job.schedulerPort)) {
      throw new ConfigError(
        `${source} is invalid: spec.jobs.${index}.schedulerPort: ${job.schedulerPort} is used twice`,
      );
    }
    seenNames.add(job.name);
    seenPorts.add(job.schedulerPort);
  });
  const invalid = (message: string) => new ConfigError(`${source} is invalid: ${message}`);
  const keys = new Set<string>();
  for (const queue of computeQueues(config.aws)) {
    if (keys.has(queue.key)) {
      throw invalid(
        `aws: two job queues would be named '${queue.key}' (cpu[].name, gpuFamilies[].name or -spot of capacity: both); name the computes apart`,
      );
    }
    keys.add(queue.key);
  }
  const projects = new Set<string>();
  config.projects.forEach((project, index) => {
    if (projects.has(project.name)) throw invalid(`projects.${index}.name: '${project.name}' is used twice`);
    if (seenNames.has(project.name)) {
      throw invalid(
        `projects.${index}.name: '${project.name}' is also a job component, whose jobs without a project share by that name`,
      );
    }
    projects.add(project.name);
  });
  if (projects.size + seenNames.size > MAX_SHARE_IDENTIFIERS) {
    throw invalid(`projects: with the job components more than ${MAX_SHARE_IDENTIFIERS} share identifiers`);
  }
  // Components' own shares (jobs without a project) weigh 1.
  const weights = [1, ...config.projects.map((project) => project.weight)];
  if (Math.max(...weights) / Math.min(...weights) > MAX_WEIGHT_SPAN) {
    throw invalid(
      `projects: the largest weight is more than ${MAX_WEIGHT_SPAN} times the smallest (job components without a project weigh 1)`,
    );
  }
  return config;
}

/** Reads and validates the YAML configuration file; fails with the file and field named. */
export function loadConfigFile(path: string, options: LoadOptions = {}): DeploymentConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw new ConfigError(`cannot read configuration file ${path}`, { cause });
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (cause) {
    throw new ConfigError(`${path} is not valid YAML: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(raw, path, options);
}

/** The job component of that name, or an error listing the configured ones. */
export function findJobComponent(config: DeploymentConfig, name: string) {
  const job = config.spec.jobs.find((candidate) => candidate.name === name);
  if (!job) {
    const known = config.spec.jobs.map((candidate) => candidate.name).join(", ");
    throw new ConfigError(`job component '${name}' is not configured (configured: ${known})`);
  }
  return job;
}
