import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "@aws-lambda-powertools/logger";
import { BatchClient, DescribeJobDefinitionsCommand } from "@aws-sdk/client-batch";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import {
  type BatchEmulator,
  type BatchEmulatorOptions,
  logFileForStream,
  startBatchEmulator,
} from "@local/batch-emulator";
import * as z from "zod";
import { componentDefinitionOptions, secretValueFrom } from "../batch/component-definition.js";
import { buildJobDefinition } from "../batch/job-definition.js";
import { ConfigError, loadConfigFile } from "../config/load.js";
import { buildRuntimeConfig, type RuntimeConfig } from "../config/runtime.js";
import type { DeploymentConfig } from "../config/schema.js";
import { createApiHandler } from "../http/app.js";
import { FileLogReader } from "../logs/file-log-reader.js";
import { LocalProductBus } from "../notify/local-bus.js";
import { notifyWebhook } from "../notify/notifier.js";
import { invocationDeps } from "../observability/correlation.js";
import { DynamoScheduleState } from "../schedules/dynamo-schedule-state.js";
import { LocalScheduler } from "../schedules/local-scheduler.js";
import { createBatchEventsHandler } from "../service/batch-events-handler.js";
import type { ServiceDeps } from "../service/deps.js";
import { DEFAULT_RECONCILE_OPTIONS, type ReconcileOptions, reconcile } from "../service/reconcile.js";
import { runScheduledJob } from "../service/scheduled-job.js";
import { submitBatch } from "../service/submit.js";
import { type AwsClients, createAwsClients, createLogger, createServiceDeps } from "../wiring/aws-deps.js";
import { crashingGateway } from "./crashing-gateway.js";
import { deliveryWindow } from "./delivery-window.js";
import { enforceExpressionLimits } from "./dynamo-limits.js";
import { serveApi } from "./http-adapter.js";
import { sqsIngest } from "./ingest-queue.js";
import {
  ensureTable,
  LOCAL_CREDENTIALS,
  type RunningEmulator,
  startDynamo,
  startS3,
} from "./storage-emulators.js";
import { SwitchablePublisher } from "./switchable-publisher.js";

export interface LocalStackOptions {
  configFile?: string;
  config?: DeploymentConfig;
  /** The Radix environment whose environmentConfig applies (overrides aws.environment; with configFile). */
  environment?: string;
  /**
   * Values of the components' `secrets`: component → name → value (what an operator puts into Secrets
   * Manager in AWS). `npm start -- --secrets FILE` reads them from a JSON file of that shape. Values reach
   * only the job processes' environment; they are never logged.
   */
  secrets?: Record<string, Record<string, string>>;
  secretsFile?: string;
  /**
   * The local EventBridge Scheduler: its clock and how often it looks (tickMs 0: only
   * `stack.scheduler.tick()`), so tests need not wait for whole minutes.
   */
  schedules?: { now?: () => number; tickMs?: number };
  /** Keeps state across restarts; default: a new temporary folder. */
  dataDir?: string;
  /**
   * DynamoDB and S3 endpoints to use instead of starting dynalite and s3rver (DynamoDB Local, LocalStack,
   * moto_server): the table and bucket are created there when missing. `npm start` takes them from
   * `AWS_ENDPOINT_URL_DYNAMODB` and `AWS_ENDPOINT_URL_S3`.
   */
  endpoints?: { dynamodb?: string; s3?: string };
  /** Overrides the first component's schedulerPort (env PORT); 0 picks a free port. */
  port?: number;
  /** Every component on a free port (tests run several stacks side by side). */
  ephemeralPorts?: boolean;
  batch?: Partial<Omit<BatchEmulatorOptions, "dataDir" | "queues" | "onEvent">>;
  /** How long a submitter owns a submission it started (ServiceDeps.submitLeaseMs). */
  submitLeaseMs?: number;
  /** Batch restarts of more jobs go to the background submitter (ServiceDeps.restartSyncMax). */
  restartSyncMax?: number;
  /** Probability that the submitter "crashes" right after a successful SubmitJob (env SUBMITTER_CRASH_RATE). */
  submitterCrashRate?: number;
  /** Wraps the events handler (the bench times it). */
  wrapEventHandler?: (handler: (event: unknown) => Promise<unknown>) => (event: unknown) => Promise<unknown>;
  /** How often the reconciler runs (the schedule in AWS); 0 turns it off. Default 10 s. */
  reconcileEveryMs?: number;
  reconcile?: Partial<ReconcileOptions>;
  logger?: Logger;
}

export interface LocalFaults {
  /** The product event publisher the services use: the local bus, or what a test swaps in. */
  events: SwitchablePublisher;
}

export interface LocalStack {
  dataDir: string;
  runtime: RuntimeConfig;
  deps: ServiceDeps;
  /** Fault injection around the ports, set up at construction (tests swap what they delegate to). */
  faults: LocalFaults;
  /** The SDK clients the services use (the bench counts calls on them). */
  clients: AwsClients;
  batch: BatchEmulator;
  /** Base URL of each job component's API, by component name. */
  urls: Record<string, string>;
  endpoints: { dynamodb: string; s3: string; batch: string };
  /** Runs the components' schedules (radixconfig `schedules` and `cron`). */
  scheduler: LocalScheduler;
  close(): Promise<void>;
}

/** The ARN the local stack gives a component's own secret (the stack creates `<app>/<component>` in AWS). */
export const localSecretArn = (app: string, component: string) =>
  `arn:aws:secretsmanager:${REGION}:000000000000:secret:${app}/${component}`;

const secretsFileSchema = z.record(z.string(), z.record(z.string(), z.string()));

/** Reads `--secrets FILE`; an error names the file and the field, never a value. */
export function readSecretsFile(path: string): Record<string, Record<string, string>> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (cause) {
    throw new ConfigError(`secrets file ${path} is not readable JSON`, { cause });
  }
  const parsed = secretsFileSchema.safeParse(raw);
  if (!parsed.success)
    throw new ConfigError(
      `secrets file ${path} must be {"<component>": {"<NAME>": "<value>"}}: ${parsed.error.issues.map((issue) => issue.path.join(".")).join(", ")}`,
    );
  return parsed.data;
}

/**
 * valueFrom → value for every secret of every component, as Secrets Manager and SSM would answer the
 * execution role. Names the configuration does not list are refused (a typo would otherwise go unseen).
 */
function secretResolver(config: DeploymentConfig, values: Record<string, Record<string, string>>) {
  const byValueFrom = new Map<string, string>();
  for (const [component, entries] of Object.entries(values)) {
    const job = config.spec.jobs.find((candidate) => candidate.name === component);
    if (!job) throw new ConfigError(`secrets: '${component}' is not an enabled job component`);
    for (const [name, value] of Object.entries(entries)) {
      if (!job.secrets.includes(name))
        throw new ConfigError(`secrets.${component}.${name}: not listed in the component's secrets`);
      byValueFrom.set(secretValueFrom(job, name, localSecretArn(config.metadata.name, job.name)), value);
    }
  }
  return (valueFrom: string) => byValueFrom.get(valueFrom);
}

const REGION = "eu-west-1";

/** Points the AWS SDK (and the job processes, which inherit the environment) at the local emulators. */
function useLocalEndpoints(dynamo: string, s3: string, batch: string) {
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_DYNAMODB: dynamo,
    AWS_ENDPOINT_URL_S3: s3,
    AWS_ENDPOINT_URL_BATCH: batch,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
    // s3rver stores aws-chunked framing verbatim unless checksums are only sent when required.
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
  });
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
}

/** Creates the bucket on an endpoint the caller brought (s3rver is started with it). */
async function ensureBucket(bucket: string) {
  const client = new S3Client({ forcePathStyle: true });
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

/**
 * The tags CloudFormation puts on every resource it creates (a job definition among them); callers may
 * not set `aws:` keys, so code that copies a definition's tags must leave these out.
 */
export function cloudFormationSystemTags(stackName: string, logicalId: string, region = REGION) {
  return {
    "aws:cloudformation:stack-name": stackName,
    "aws:cloudformation:stack-id": `arn:aws:cloudformation:${region}:000000000000:stack/${stackName}/00000000-0000-4000-8000-000000000000`,
    "aws:cloudformation:logical-id": logicalId,
  };
}

/**
 * Registers each component's job definition (the same shape cdk/ deploys) unless one is active, as the
 * deployment does: with CloudFormation's system tags, so the local stack meets them where AWS has them.
 */
async function registerJobDefinitions(
  config: DeploymentConfig,
  runtime: RuntimeConfig,
  batch: BatchEmulator,
) {
  const client = new BatchClient({});
  for (const job of config.spec.jobs) {
    const component = runtime.components.find((candidate) => candidate.name === job.name)!;
    const existing = await client.send(
      new DescribeJobDefinitionsCommand({ jobDefinitionName: component.jobDefinition, status: "ACTIVE" }),
    );
    if (existing.jobDefinitions?.length) continue;
    const definition = buildJobDefinition({
      name: component.jobDefinition,
      image: (job.image ?? "local").replaceAll("{imageTagName}", job.imageTagName),
      mainCommand: job.local!.command,
      mainEnvironment: job.local!.environment,
      payloadPath: job.payload?.path,
      fetchImage: config.aws.payloadFetchImage,
      vcpus: 1,
      memoryMiB: 512,
      ...componentDefinitionOptions(job, localSecretArn(config.metadata.name, job.name)),
    });
    batch.provisionJobDefinition(
      definition,
      cloudFormationSystemTags(
        `${config.metadata.name}-job-scheduler`,
        `JobsDefinition${job.name.replaceAll("-", "")}`,
      ),
    );
  }
}

/**
 * Starts the whole system on this machine: DynamoDB (dynalite) and S3 (s3rver) emulators, the local
 * AWS Batch emulator, and each job component's API on its schedulerPort, all on 127.0.0.1. The same
 * handlers as in AWS run behind them; "Batch Job State Change" events go straight to the events handler.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const config =
    options.config ??
    loadConfigFile(options.configFile ?? "radixconfig.yaml", { environment: options.environment });
  const resolveSecret = secretResolver(
    config,
    options.secrets ?? (options.secretsFile ? readSecretsFile(options.secretsFile) : {}),
  );
  config.spec.jobs.forEach((job, index) => {
    if (!job.local)
      throw new Error(`spec.jobs.${index}.local.command is required to run ${job.name} on the local stack`);
  });
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "job-scheduler-"));
  mkdirSync(dataDir, { recursive: true });
  const runtime = buildRuntimeConfig(config);
  const logger = options.logger ?? createLogger("job-scheduler-local");
  const started: (RunningEmulator | BatchEmulator)[] = [];
  const servers: Server[] = [];
  let reconcileTimer: NodeJS.Timeout | undefined;
  let reconciling: Promise<unknown> = Promise.resolve();
  let scheduler: LocalScheduler | undefined;
  const close = async () => {
    await scheduler?.close();
    clearInterval(reconcileTimer);
    await reconciling;
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    for (const running of started.reverse()) await running.close();
  };
  try {
    const dynamo = options.endpoints?.dynamodb
      ? { url: options.endpoints.dynamodb }
      : await startDynamo(dataDir).then((running) => {
          started.push(running);
          return running;
        });
    const s3 = options.endpoints?.s3
      ? { url: options.endpoints.s3 }
      : await startS3(dataDir, [runtime.bucketName]).then((running) => {
          started.push(running);
          return running;
        });
    let deps: ServiceDeps | undefined;
    let onEvent: (event: unknown) => Promise<unknown> = async () => undefined;
    const batch = await startBatchEmulator({
      // Many deliveries in flight, so the delivery window can gather batches as the SQS event source does.
      eventConcurrency: 256,
      // The queues' fair-share policy: projects by their weights, components (no project) at weight 1.
      ...(runtime.projects.length > 0
        ? {
            shareWeights: Object.fromEntries(
              runtime.projects.map((project) => [project.name, project.weight]),
            ),
          }
        : {}),
      ...options.batch,
      dataDir: join(dataDir, "batch"),
      region: REGION,
      resolveSecret,
      queues: runtime.queues.map((queue) => queue.queue),
      onEvent: async (event) => {
        await onEvent(event);
      },
    });
    started.push(batch);
    useLocalEndpoints(dynamo.url, s3.url, batch.url);
    await ensureTable(new DynamoDBClient({}), runtime.tableName);
    if (options.endpoints?.s3) await ensureBucket(runtime.bucketName);
    await registerJobDefinitions(config, runtime, batch);
    const localEntrypoints = Object.fromEntries(
      config.spec.jobs.map((job) => [job.name, job.local!.command]),
    );
    const clients = createAwsClients();
    // What the emulators let through and AWS refuses fails here too (lib/local/dynamo-limits.ts).
    enforceExpressionLimits(clients.dynamoRaw);
    // The product bus and the webhook notifier, in-process (EventBridge → SQS → notifier in AWS).
    const bus = new LocalProductBus(
      { events: join(dataDir, "product-events.ndjson"), dead: join(dataDir, "notifications-dead.ndjson") },
      (event) => notifyWebhook(deps!, event),
    );
    const faults: LocalFaults = { events: new SwitchablePublisher(bus) };
    const crashRate = options.submitterCrashRate ?? Number(process.env.SUBMITTER_CRASH_RATE ?? 0);
    deps = createServiceDeps(runtime, {
      clients,
      logger,
      // In AWS an asynchronous Lambda invoke; here the same submitter runs in-process, off the request.
      submitInBackground: async (component, batchName, correlationId) => {
        setImmediate(() => {
          submitBatch(invocationDeps(deps!, { correlationId }), component, batchName).catch((error) =>
            logger.error("background submission failed", { batchName, error }),
          );
        });
      },
      localEntrypoints,
      events: faults.events,
      submitLeaseMs: options.submitLeaseMs,
      restartSyncMax: options.restartSyncMax,
      // The static token map stands in for API Gateway's IAM authorization on a laptop.
      ...(config.auth.localTokens ? { auth: { tokens: config.auth.localTokens } } : {}),
      ...(crashRate > 0 ? { wrapBatch: (gateway) => crashingGateway(gateway, crashRate) } : {}),
      logs: new FileLogReader((stream) => logFileForStream(join(dataDir, "batch"), stream)),
    });
    // Projects' maxRunningJobs: their consumable resources, as cdk/ creates them (constructs/project-limits.ts).
    for (const project of runtime.projects) {
      if (project.consumableResource && project.maxRunningJobs)
        await deps.batch.createConsumableResource(project.consumableResource, project.maxRunningJobs);
    }
    const eventsHandler = createBatchEventsHandler(deps);
    const handle = options.wrapEventHandler ? options.wrapEventHandler(eventsHandler) : eventsHandler;
    // As in AWS (EventBridge → SQS → batch-events), events reach the handler in SQS batches.
    onEvent = deliveryWindow(sqsIngest(handle), { maxEvents: 500, maxWaitMs: 20 });
    const reconcileEveryMs = options.reconcileEveryMs ?? 10_000;
    if (reconcileEveryMs > 0) {
      const reconcileOptions = { ...DEFAULT_RECONCILE_OPTIONS, ...options.reconcile };
      reconcileTimer = setInterval(() => {
        reconciling = reconciling
          .then(() => reconcile(invocationDeps(deps!, { correlationId: randomUUID() }), reconcileOptions))
          .catch((error) => logger.error("reconcile failed", { error }));
      }, reconcileEveryMs);
      reconcileTimer.unref();
    }
    const scheduleState = new DynamoScheduleState(clients.dynamo, runtime.tableName);
    scheduler = new LocalScheduler({
      schedules: config.spec.jobs.flatMap((job) =>
        job.schedules.map((schedule) => ({ component: job.name, schedule })),
      ),
      fire: (run) =>
        runScheduledJob(invocationDeps(deps!, { correlationId: randomUUID() }), scheduleState, run),
      onError: (error, run) =>
        logger.error("scheduled run failed", { component: run.component, schedule: run.schedule, error }),
      ...options.schedules,
    });
    const urls: Record<string, string> = {};
    for (const [index, component] of config.spec.jobs.entries()) {
      const port = options.ephemeralPorts
        ? 0
        : index === 0 && options.port !== undefined
          ? options.port
          : component.schedulerPort;
      const server = await serveApi(createApiHandler(deps, component.name), port);
      servers.push(server);
      urls[component.name] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    return {
      dataDir,
      runtime,
      deps,
      faults,
      clients,
      batch,
      urls,
      endpoints: { dynamodb: dynamo.url, s3: s3.url, batch: batch.url },
      scheduler,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
