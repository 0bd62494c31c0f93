import {
  type BatchClient,
  CancelJobCommand,
  CreateConsumableResourceCommand,
  DeleteConsumableResourceCommand,
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
import { attemptFacts, type BatchAttemptLike, mainContainerOf } from "./attempt-facts.js";
import type { BatchGateway, BatchJobView } from "./gateway.js";
import { MAIN_CONTAINER } from "./job-definition.js";
import { PARAM_RUN } from "./submit-input.js";

/** DescribeJobs takes at most 100 job ids a call. */
const DESCRIBE_LIMIT = 100;
/** SubmitJob tries before giving up (the reconciler resumes a submission that gave up). */
const SUBMIT_ATTEMPTS = 8;

/**
 * How a failed call failed: `throttled` (refused, safe to repeat), `refused` (the request is wrong:
 * repeating cannot help), `ambiguous` (5xx or no answer: it may have been applied).
 */
export function classify(error: unknown): "throttled" | "refused" | "ambiguous" {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (status === 429 || name === "TooManyRequestsException" || name?.includes("Throttl")) return "throttled";
  if (name === "ClientException" || (status !== undefined && status >= 400 && status < 500)) return "refused";
  return "ambiguous";
}

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
    attempts: (job.attempts ?? []).map((attempt) => attemptFacts(attempt as BatchAttemptLike)),
    logStreamName: mainContainerOf({
      container: job.container,
      taskProperties: job.ecsProperties?.taskProperties,
    } as Pick<BatchAttemptLike, "container" | "taskProperties">)?.logStreamName,
  };
}

/**
 * The tags a new revision may carry: the latest revision's, less the keys starting with `aws:`. AWS keeps
 * that prefix for itself (CloudFormation tags what it creates with `aws:cloudformation:stack-name`,
 * `…:stack-id` and `…:logical-id`) and refuses it from callers ("You can't edit or delete tag keys or
 * values with this prefix", https://docs.aws.amazon.com/tag-editor/latest/userguide/best-practices-and-strats.html).
 * Tagging on create needs batch:TagResource on the new revision as well (cdk/ grants it,
 * https://docs.aws.amazon.com/batch/latest/userguide/tag-resources.html: "If tags cannot be applied during
 * resource creation, the resource creation process fails").
 */
export function copyableTags(tags: Record<string, string> | undefined): Record<string, string> | undefined {
  const kept = Object.entries(tags ?? {}).filter(([key]) => !/^aws:/i.test(key));
  return kept.length ? Object.fromEntries(kept) : undefined;
}

const isClientErrorSaying = (error: unknown, pattern: RegExp) =>
  (error as Error).name === "ClientException" && pattern.test((error as Error).message);

export class AwsBatchGateway implements BatchGateway {
  /** image → `name:revision`, per job definition name; registrations are never repeated per request. */
  private readonly definitions = new Map<string, Promise<string>>();

  /**
   * @param client for every call but SubmitJob (SDK retries on).
   * @param submitClient for SubmitJob, with SDK retries off: SubmitJob has no idempotency token, so a
   *   blind retry after a 5xx or a lost answer can start the job twice; {@link submit} retries itself.
   */
  constructor(
    private readonly client: BatchClient,
    private readonly submitClient: BatchClient = client,
    private readonly sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  ) {}

  /**
   * SubmitJob, exactly once. Throttling (429, 50 calls a second per account) was refused and is retried
   * with exponential backoff and full jitter. A 5xx or a lost answer may or may not have created the
   * job, so before retrying Batch is asked for a job of that name and run in the queue (ListJobs).
   */
  async submit(input: SubmitJobCommandInput, options: { deadline?: number } = {}) {
    const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    for (let attempt = 1; ; attempt++) {
      if (Date.now() > deadline)
        throw new Error(`SubmitJob ${input.jobName}: lease ended before it was accepted`);
      try {
        const result = await this.submitClient.send(new SubmitJobCommand(input));
        return result.jobId!;
      } catch (error) {
        const kind = classify(error);
        if (kind === "refused" || attempt >= SUBMIT_ATTEMPTS) throw error;
        await this.sleep(Math.random() * Math.min(20_000, 100 * 2 ** attempt));
        if (kind === "ambiguous") {
          const run = input.parameters?.[PARAM_RUN];
          const existing = (await this.findByName(input.jobQueue!, input.jobName!)).find(
            (job) => job.parameters?.[PARAM_RUN] === run,
          );
          if (existing) return existing.jobId;
        }
      }
    }
  }

  async createConsumableResource(name: string, totalQuantity: number) {
    try {
      await this.client.send(
        new CreateConsumableResourceCommand({
          consumableResourceName: name,
          totalQuantity,
          resourceType: "REPLENISHABLE",
        }),
      );
    } catch (error) {
      if (!isClientErrorSaying(error, /already exists/i)) throw error;
    }
  }

  async deleteConsumableResource(name: string) {
    try {
      await this.client.send(new DeleteConsumableResourceCommand({ consumableResource: name }));
    } catch (error) {
      if (!isClientErrorSaying(error, /does not exist|not found/i)) throw error;
    }
  }

  async terminate(batchJobId: string, reason: string) {
    await this.client.send(new TerminateJobCommand({ jobId: batchJobId, reason: reason.slice(0, 1024) }));
  }

  async cancel(batchJobId: string, reason: string) {
    await this.client.send(new CancelJobCommand({ jobId: batchJobId, reason: reason.slice(0, 1024) }));
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
      tags: copyableTags(latest.tags),
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
