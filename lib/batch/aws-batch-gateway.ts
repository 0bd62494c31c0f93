import {
  type BatchClient,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  type JobDetail,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  type RegisterJobDefinitionCommandInput,
  SubmitJobCommand,
  type SubmitJobCommandInput,
  TerminateJobCommand,
} from "@aws-sdk/client-batch";
import type { BatchGateway, BatchJobView } from "./gateway.js";
import { MAIN_CONTAINER } from "./job-definition.js";

/** DescribeJobs takes at most 100 job ids a call. */
const DESCRIBE_LIMIT = 100;

export function toJobView(job: JobDetail): BatchJobView {
  return {
    jobId: job.jobId ?? "",
    jobName: job.jobName ?? "",
    status: job.status ?? "SUBMITTED",
    statusReason: job.statusReason,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    stoppedAt: job.stoppedAt,
    parameters: job.parameters,
    arrayIndex: job.arrayProperties?.index,
    attempts: (job.attempts ?? []).map((attempt) => {
      // Multi-container (ecsProperties) jobs report the user's container under taskProperties.
      const main = attempt.taskProperties?.[0]?.containers?.find(
        (container) => container.name === MAIN_CONTAINER,
      );
      return {
        startedAt: attempt.startedAt,
        stoppedAt: attempt.stoppedAt,
        exitCode: attempt.container?.exitCode ?? main?.exitCode,
        reason: attempt.container?.reason ?? main?.reason,
        statusReason: attempt.statusReason,
        logStreamName: main?.logStreamName ?? attempt.container?.logStreamName,
      };
    }),
  };
}

export class AwsBatchGateway implements BatchGateway {
  /** image → `name:revision`, per job definition name; registrations are never repeated per request. */
  private readonly definitions = new Map<string, Promise<string>>();

  constructor(private readonly client: BatchClient) {}

  async submit(input: SubmitJobCommandInput) {
    const result = await this.client.send(new SubmitJobCommand(input));
    return result.jobId!;
  }

  async terminate(batchJobId: string, reason: string) {
    await this.client.send(new TerminateJobCommand({ jobId: batchJobId, reason: reason.slice(0, 1024) }));
  }

  async describe(batchJobIds: readonly string[]) {
    const views: BatchJobView[] = [];
    for (let start = 0; start < batchJobIds.length; start += DESCRIBE_LIMIT) {
      const result = await this.client.send(
        new DescribeJobsCommand({ jobs: batchJobIds.slice(start, start + DESCRIBE_LIMIT) }),
      );
      views.push(...(result.jobs ?? []).map(toJobView));
    }
    return views;
  }

  async findByName(jobQueue: string, jobName: string) {
    const ids: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListJobsCommand({ jobQueue, filters: [{ name: "JOB_NAME", values: [jobName] }], nextToken }),
      );
      ids.push(...(page.jobSummaryList ?? []).map((job) => job.jobId!));
      nextToken = page.nextToken;
    } while (nextToken);
    return ids.length ? this.describe(ids) : [];
  }

  jobDefinitionFor(jobDefinitionName: string, image: string | undefined) {
    const cacheKey = `${jobDefinitionName}|${image ?? ""}`;
    let pending = this.definitions.get(cacheKey);
    if (!pending) {
      pending = this.resolveDefinition(jobDefinitionName, image);
      pending.catch(() => this.definitions.delete(cacheKey));
      this.definitions.set(cacheKey, pending);
    }
    return pending;
  }

  private async resolveDefinition(name: string, image: string | undefined): Promise<string> {
    const result = await this.client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: name, status: "ACTIVE" }),
    );
    const revisions = (result.jobDefinitions ?? []).sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
    const latest = revisions[0];
    if (!latest) throw new Error(`job definition ${name} is not registered`);
    const mainImage = (definition: (typeof revisions)[number]) =>
      definition.ecsProperties?.taskProperties?.[0]?.containers?.find((c) => c.name === MAIN_CONTAINER)
        ?.image ?? definition.containerProperties?.image;
    const match =
      image === undefined ? latest : revisions.find((definition) => mainImage(definition) === image);
    if (match) return `${name}:${match.revision}`;
    // A new image (another imageTagName): register a revision that differs only in the main image.
    const task = latest.ecsProperties?.taskProperties?.[0];
    const input: RegisterJobDefinitionCommandInput = {
      jobDefinitionName: name,
      type: latest.type as "container",
      platformCapabilities: latest.platformCapabilities,
      retryStrategy: latest.retryStrategy,
      propagateTags: latest.propagateTags,
      parameters: latest.parameters,
      tags: latest.tags,
      timeout: latest.timeout,
      ecsProperties: task
        ? {
            taskProperties: [
              {
                ...task,
                containers: task.containers?.map((container) =>
                  container.name === MAIN_CONTAINER ? { ...container, image } : container,
                ),
              },
            ],
          }
        : undefined,
      containerProperties: latest.containerProperties ? { ...latest.containerProperties, image } : undefined,
    };
    const registered = await this.client.send(new RegisterJobDefinitionCommand(input));
    return `${name}:${registered.revision}`;
  }
}
