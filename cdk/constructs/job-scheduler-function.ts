import { join } from "node:path";
import { Duration, Validations } from "aws-cdk-lib";
import type * as events from "aws-cdk-lib/aws-events";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as destinations from "aws-cdk-lib/aws-lambda-destinations";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import * as logs from "aws-cdk-lib/aws-logs";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import type { AwsConfig } from "../../lib/config/schema.js";
import { BUNDLE_TARGET, ESM_REQUIRE_BANNER, functionEntry, PROJECT_ROOT } from "../bundling.js";
import { allow } from "./allow.js";

export interface JobSchedulerFunctionProps {
  /** Entry point name in functions/ without extension, e.g. `api`. */
  readonly entryName: string;
  readonly description: string;
  /** Powertools service name (POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  /** RUNTIME_CONFIG as JSON, tokens already rendered with `Stack.of(scope).toJsonString(...)`. */
  readonly runtimeConfig: string;
  /** `aws.functions` of the configuration (tracing). */
  readonly settings: AwsConfig["functions"];
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Extra environment variables. */
  readonly environment?: Record<string, string>;
  /** Reserved concurrency. @default none (the account's unreserved pool) */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Provisioned concurrency on the alias `live`; callers then invoke {@link JobSchedulerFunction.invokeTarget}.
   * @default none
   */
  readonly provisionedConcurrentExecutions?: number;
}

/**
 * Every function of the scheduler: Node.js 22 on arm64, bundled locally by esbuild (never Docker) as a
 * minified ESM file with source maps and the AWS SDK v3 inside (bundled and tree-shaken, so the code runs
 * against the SDK versions it was tested with), JSON logs to its own log group with retention, its own
 * role holding only what the `bind*`/`grant*` calls add, and the deployment's RUNTIME_CONFIG.
 *
 * @example
 * const submitter = new JobSchedulerFunction(this, "Submitter", {
 *   entryName: "submitter", serviceName: "sample-submitter", description: "Background submission",
 *   runtimeConfig, settings: config.aws.functions, timeout: Duration.minutes(15),
 * });
 * api.bindSubmitter(submitter); // lambda:InvokeFunction on it + SUBMITTER_FUNCTION_NAME
 */
export class JobSchedulerFunction extends NodejsFunction {
  /** What callers invoke: the `live` alias when provisioned concurrency is configured, else the function. */
  public readonly invokeTarget: lambda.IFunction;
  public readonly functionLogGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: JobSchedulerFunctionProps) {
    const { reservedConcurrentExecutions: reserved, provisionedConcurrentExecutions: provisioned } = props;
    if (reserved !== undefined && provisioned !== undefined && provisioned > reserved) {
      throw new Error(
        `aws.functions.provisionedConcurrency (${provisioned}) must not exceed aws.functions.reservedConcurrency (${reserved})`,
      );
    }
    // Role and log group are siblings: they must exist before super(). The role gets no managed policy
    // (AWSLambdaBasicExecutionRole would allow writing to any log group).
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
      description: `${props.serviceName}: ${props.description}`,
    });
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    super(scope, id, {
      entry: functionEntry(props.entryName),
      handler: "handler",
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, "package-lock.json"),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      tracing: props.settings.tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        RUNTIME_CONFIG: props.runtimeConfig,
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        // Stack traces through the bundle's source map (the .map file ships next to index.mjs).
        NODE_OPTIONS: "--enable-source-maps",
        ...props.environment,
      },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        target: BUNDLE_TARGET,
        format: OutputFormat.ESM,
        mainFields: ["module", "main"],
        banner: ESM_REQUIRE_BANNER,
        bundleAwsSDK: true,
        externalModules: [],
      },
    });
    this.functionLogGroup = logGroup;
    Validations.of(this).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Node.js 22 is the runtime this project targets and tests (DESIGN.md Deployment; bundles target node22, " +
        "@middy 6 and vitest 4 pinned for it); it is a supported Lambda runtime. Moving to a newer one is a " +
        "deliberate upgrade of the whole toolchain, not a side effect of a deploy.",
    });
    logGroup.grantWrite(role);
    if (props.settings.tracing) this.acknowledgeTracing(role);
    this.invokeTarget = props.provisionedConcurrentExecutions
      ? new lambda.Alias(this, "Live", {
          aliasName: "live",
          version: this.currentVersion,
          provisionedConcurrentExecutions: props.provisionedConcurrentExecutions,
        })
      : this;
  }

  /**
   * Asynchronous invocations (EventBridge targets, Lambda `Event` invokes) that still fail after Lambda's
   * retries go to `queue` as invocation records (request payload and error), to be inspected and replayed.
   */
  public sendFailuresTo(queue: sqs.IQueue, retryAttempts = 2): this {
    this.configureAsyncInvoke({ retryAttempts, onFailure: new destinations.SqsDestination(queue) });
    return this;
  }

  /** events:PutEvents on the product's bus, and EVENT_BUS_NAME. */
  public bindEventBus(bus: events.IEventBus): this {
    bus.grantPutEventsTo(this);
    this.addEnvironment("EVENT_BUS_NAME", bus.eventBusName);
    return this;
  }

  /** lambda:InvokeFunction on the background submitter (unqualified), and SUBMITTER_FUNCTION_NAME. */
  public bindSubmitter(submitter: lambda.IFunction): this {
    allow(this, { actions: ["lambda:InvokeFunction"], resources: [submitter.functionArn] });
    this.addEnvironment("SUBMITTER_FUNCTION_NAME", submitter.functionName);
    return this;
  }

  /** Reading job output (GET .../logs): GetLogEvents and FilterLogEvents on that group, and BATCH_LOG_GROUP. */
  public bindBatchLogs(logGroup: logs.ILogGroup): this {
    allow(this, {
      actions: ["logs:GetLogEvents", "logs:FilterLogEvents"],
      resources: [logGroup.logGroupArn],
    });
    this.addEnvironment("BATCH_LOG_GROUP", logGroup.logGroupName);
    return this;
  }

  private acknowledgeTracing(role: iam.Role): void {
    // CDK adds xray:PutTraceSegments/PutTelemetryRecords on * for active tracing.
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "X-Ray PutTraceSegments/PutTelemetryRecords have no resource-level permissions (Service Authorization " +
        "Reference, AWS X-Ray); CDK adds them for active tracing (aws.functions.tracing).",
    });
  }
}
