import { existsSync } from "node:fs";
import { Annotations, CfnOutput, Duration, Fn, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { bundledRuntimeConfig } from "../lib/config/runtime.js";
import type { DeploymentConfig } from "../lib/config/schema.js";
import { functionEntry } from "./bundling.js";
import { DeadLetterQueue } from "./constructs/dead-letter-queue.js";
import { GpuBatchCompute } from "./constructs/gpu-batch-compute.js";
import { JobDefinitions } from "./constructs/job-definitions.js";
import { JobSchedulerFunction } from "./constructs/job-scheduler-function.js";
import { JobSchedules } from "./constructs/job-schedules.js";
import { JobStateTable } from "./constructs/job-state-table.js";
import { API_STAGE, JobsApi } from "./constructs/jobs-api.js";
import { Network } from "./constructs/network.js";
import { Notifications } from "./constructs/notifications.js";
import { Operations } from "./constructs/operations.js";
import { PayloadBucket } from "./constructs/payload-bucket.js";
import { ProjectLimits } from "./constructs/project-limits.js";
import { Reconciler } from "./constructs/reconciler.js";
import { StateChangeIngest } from "./constructs/state-change-ingest.js";
import { checkLambdaEnvironments } from "./environment-size.js";

export interface JobSchedulerStackProps extends StackProps {
  /** The validated deployment configuration (lib/config/load.ts). */
  readonly config: DeploymentConfig;
}

/**
 * One deployment of the job scheduler (DESIGN.md "Deployment"): per job component a private API and
 * its function; one table, one payload bucket, the Batch capacity and job definitions, the event paths
 * (Batch events in, status changes out), the reconciler schedule and the alarms.
 */
export class JobSchedulerStack extends Stack {
  constructor(scope: Construct, id: string, props: JobSchedulerStackProps) {
    super(scope, id, props);
    checkLambdaEnvironments(this);
    const { config } = props;
    const { aws } = config;
    const app = config.metadata.name;

    const network = new Network(this, "Network", { network: aws.network });
    const table = new JobStateTable(this, "JobState");
    const payloads = new PayloadBucket(this, "Payloads", {
      expirationDays: Math.max(...config.spec.jobs.map((job) => job.retention.maxAgeDays)) + 1,
    });
    const compute = new GpuBatchCompute(this, "Compute", {
      app,
      vpc: network.vpc,
      subnets: network.batchSubnets,
      securityGroup: network.batchSecurityGroup,
      aws,
      shareIdentifiers: config.spec.jobs.map((job) => job.name),
      projects: config.projects,
    });
    const projectLimits = new ProjectLimits(this, "ProjectLimits", { app, projects: config.projects });
    const jobs = new JobDefinitions(this, "Jobs", {
      config,
      payloads,
      queueArns: compute.queueArns,
      consumableResourceArns: projectLimits.resourceArns,
      hostSecurityGroup: network.batchSecurityGroup,
    });

    // Settings in the code, generated names in the environment (lib/config/runtime.ts bundledRuntimeConfig).
    const shared = {
      bundledConfig: bundledRuntimeConfig(config),
      storage: { tableName: table.tableName, bucketName: payloads.bucketName },
      settings: aws.functions,
    };

    const submitter = new JobSchedulerFunction(this, "Submitter", {
      ...shared,
      entryName: "submitter",
      serviceName: `${app}-submitter`,
      description: "Submits large batches to AWS Batch in the background",
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    const batchEvents = new JobSchedulerFunction(this, "BatchEvents", {
      ...shared,
      entryName: "batch-events",
      serviceName: `${app}-batch-events`,
      description: "Records AWS Batch job state changes",
    });
    const reconciler = new JobSchedulerFunction(this, "ReconcilerFunction", {
      ...shared,
      entryName: "reconciler",
      serviceName: `${app}-reconciler`,
      description: "Repairs missed events, enforces deadlines, resumes stalled submissions",
      timeout: Duration.minutes(4),
    });
    const notifier = existsSync(functionEntry("notifier"))
      ? new JobSchedulerFunction(this, "Notifier", {
          ...shared,
          entryName: "notifier",
          serviceName: `${app}-notifier`,
          description: "Delivers status changes to Radix webhooks",
          memorySize: 256,
          timeout: Duration.minutes(1),
        })
      : undefined;
    const apis = config.spec.jobs.map((job) => {
      const handler = new JobSchedulerFunction(this, `Api-${job.name}`, {
        ...shared,
        entryName: "api",
        serviceName: `${app}-api-${job.name}`,
        description: `Job scheduler API of job component ${job.name}`,
        environment: { COMPONENT: job.name },
        memorySize: 1024,
        // API Gateway's integration timeout is 29 s.
        timeout: Duration.seconds(29),
        reservedConcurrentExecutions: aws.functions.reservedConcurrency,
        provisionedConcurrentExecutions: aws.functions.provisionedConcurrency,
      });
      const api = new JobsApi(this, `JobsApi-${job.name}`, {
        app,
        component: job.name,
        handler: handler.invokeTarget,
        endpoint: network.executeApiEndpoint,
        settings: aws.api,
        tracing: aws.functions.tracing,
      });
      return { component: job.name, handler, api };
    });

    if (!notifier) {
      Annotations.of(this).addWarningV2(
        "job-scheduler:notifier-missing",
        "functions/notifier.ts does not exist yet: status changes queue up with no consumer and no webhook is called",
      );
    }
    const notifications = new Notifications(this, "Notifications", { app, consumer: notifier });
    // Scheduled jobs (radixconfig `schedules` and `cron`): EventBridge Scheduler → one function that
    // creates each job through the create use case, as POST /jobs does.
    const scheduled = config.spec.jobs.filter((job) => job.schedules.length > 0);
    const scheduledJob =
      scheduled.length > 0
        ? new JobSchedulerFunction(this, "ScheduledJob", {
            ...shared,
            entryName: "scheduled-job",
            serviceName: `${app}-scheduled-job`,
            description: "Creates the jobs of the components' schedules",
            memorySize: 512,
            timeout: Duration.seconds(60),
          })
        : undefined;
    const scheduledJobFailures = scheduledJob
      ? new DeadLetterQueue(this, "ScheduledJobFailures", {
          purpose: "scheduled runs that failed after Lambda's retries",
        })
      : undefined;
    if (scheduledJob) {
      new JobSchedules(this, "Schedules", {
        app,
        schedules: scheduled.map((job) => ({ component: job.name, schedules: job.schedules })),
        target: scheduledJob,
      });
      scheduledJob.sendFailuresTo(scheduledJobFailures!);
      table.grantReadWrite(scheduledJob);
      payloads.grantPayloads(scheduledJob, "write");
      jobs.grantJobs(scheduledJob, { submit: true, stop: true });
      scheduledJob.bindEventBus(notifications.bus);
    }

    const ingest = new StateChangeIngest(this, "StateChangeIngest", {
      queueArns: compute.queueArns,
      handler: batchEvents,
    });
    const reconcile = new Reconciler(this, "Reconciler", { handler: reconciler });
    const submitterFailures = new DeadLetterQueue(this, "SubmitterFailures", {
      purpose: "background submissions that failed after Lambda's retries",
    });
    submitter.sendFailuresTo(submitterFailures);

    // Least privilege, per function.
    for (const { handler } of apis) {
      table.grantReadWrite(handler);
      payloads.grantPayloads(handler, "read", "write", "delete");
      jobs.grantJobs(handler, { submit: true, stop: true });
      handler.bindSubmitter(submitter).bindEventBus(notifications.bus).bindBatchLogs(jobs.logGroup);
    }
    table.grantReadWrite(submitter);
    payloads.grantPayloads(submitter, "read");
    jobs.grantJobs(submitter, { submit: true });
    // A submission AWS Batch refuses fails its jobs, and every status change is a product event.
    submitter.bindEventBus(notifications.bus);
    table.grantReadWrite(batchEvents);
    payloads.grantPayloads(batchEvents, "read", "delete");
    jobs.grantJobs(batchEvents, { submit: true, stop: true });
    batchEvents.bindEventBus(notifications.bus);
    table.grantReadWrite(reconciler);
    payloads.grantPayloads(reconciler, "delete");
    jobs.grantJobs(reconciler, { submit: true, stop: true });
    reconciler.bindEventBus(notifications.bus);
    if (notifier) table.grantRead(notifier);

    new Operations(this, "Operations", {
      app,
      functions: [
        submitter,
        batchEvents,
        reconciler,
        ...(notifier ? [notifier] : []),
        ...(scheduledJob ? [scheduledJob] : []),
        ...apis.map((a) => a.handler),
      ],
      deadLetterQueues: [
        ingest.deliveryDeadLetterQueue,
        ingest.processingDeadLetterQueue,
        notifications.deadLetterQueue,
        notifications.deliveryDeadLetterQueue,
        submitterFailures,
        ...(scheduledJobFailures ? [scheduledJobFailures] : []),
      ],
      rules: [
        { rule: ingest.rule },
        { rule: reconcile.rule },
        { rule: notifications.rule, eventBusName: notifications.bus.eventBusName },
      ],
      apis: apis.map((a) => a.api),
      workQueues: [
        {
          queue: ingest.queue,
          purpose: "AWS Batch events wait for the batch-events function",
          maxAge: Duration.hours(1),
        },
        {
          queue: notifications.queue,
          purpose: "status changes wait for the webhook notifier",
          maxAge: Duration.hours(1),
        },
      ],
    });

    for (const { component, api } of apis) {
      // Through the endpoint's own name: works with or without private DNS (the API is associated with it).
      const endpointUrl = `https://${api.api.restApiId}-${network.executeApiEndpoint.vpcEndpointId}.execute-api.${this.region}.${this.urlSuffix}/${API_STAGE}/`;
      new CfnOutput(this, `ApiUrl-${component}`, {
        description:
          network.executeApiPrivateDns === false
            ? `Base URL of ${component}'s API (the execute-api endpoint's own name; the endpoint has no private DNS)`
            : `Base URL of ${component}'s API (private DNS of the execute-api endpoint)`,
        value: network.executeApiPrivateDns === false ? endpointUrl : api.api.url,
      });
      new CfnOutput(this, `ApiEndpointUrl-${component}`, {
        description: `Base URL of ${component}'s API through the endpoint's own DNS name (no private DNS needed)`,
        value: endpointUrl,
      });
    }
    new CfnOutput(this, "EventBusName", { value: notifications.bus.eventBusName });
    new CfnOutput(this, "JobLogGroup", { value: jobs.logGroup.logGroupName });
  }

  /**
   * Always the AZ tokens of the deployment region (Fn::GetAZs), never a context lookup: synth stays
   * offline and needs no credentials even when aws.account and aws.region are both set.
   */
  override get availabilityZones(): string[] {
    return [Fn.select(0, Fn.getAzs()), Fn.select(1, Fn.getAzs())];
  }
}
