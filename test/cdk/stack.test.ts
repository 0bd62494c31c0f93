import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as batch from "aws-cdk-lib/aws-batch";
import { beforeAll, describe, expect, it } from "vitest";
import { JobDefinitions, withFetchEnvironment } from "../../cdk/constructs/job-definitions.js";
import { PayloadBucket } from "../../cdk/constructs/payload-bucket.js";
import { JobSchedulerStack } from "../../cdk/stack.js";
import { buildJobDefinition, FETCH_CONTAINER, MAIN_CONTAINER } from "../../lib/batch/job-definition.js";
import { submitInputFor } from "../../lib/batch/submit-input.js";
import { loadConfigFile } from "../../lib/config/load.js";
import { buildRuntimeConfig, computeQueues, resourceNames } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import type { GroupRecord } from "../../lib/store/job-store.js";
import {
  deploymentWildcards,
  flat,
  type Json,
  leastPrivilegeViolations,
  list,
  ofType as ofTypeIn,
  type Resources,
  STAR_RESOURCE_ACTIONS,
  type Statement,
} from "./helpers.js";

/** The sample configuration, synthesized once for the whole file (importing aws-cdk-lib alone takes ~6 s). */
let config: DeploymentConfig;
let template: Template;
let resources: Resources;

beforeAll(() => {
  config = loadConfigFile("radixconfig.yaml");
  // Bundling is skipped (test/cdk/bundles.test.ts bundles the entry points) and so is CDK's built-in
  // CloudFormation validation (~7 s; test/cdk/nag.test.ts runs it with cdk-nag).
  const app = new App({ builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } });
  const stack = new JobSchedulerStack(app, "Sample", { config, env: { region: config.aws.region } });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

const ofType = (type: string) => ofTypeIn(resources, type);

/** The statements of the role of the function whose POWERTOOLS_SERVICE_NAME is `service`. */
function statementsOf(service: string): Statement[] {
  const [, fn] = ofType("AWS::Lambda::Function").find(
    ([, resource]) =>
      (resource.Properties.Environment as Json | undefined)?.Variables &&
      (resource.Properties.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME === service,
  )!;
  const roleId = ((fn.Properties.Role as Json)["Fn::GetAtt"] as string[])[0];
  return ofType("AWS::IAM::Policy")
    .filter(([, policy]) => (policy.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const actionsOf = (service: string) => new Set(statementsOf(service).flatMap((s) => list(s.Action)));

describe("private API", () => {
  it("is a PRIVATE REST API per job component, associated with the execute-api endpoint", () => {
    template.resourceCountIs("AWS::ApiGateway::RestApi", config.spec.jobs.length);
    template.hasResourceProperties("AWS::ApiGateway::RestApi", {
      Name: "sample-compute",
      EndpointConfiguration: {
        Types: ["PRIVATE"],
        VpcEndpointIds: [{ Ref: Match.stringLikeRegexp("ExecuteApi") }],
      },
    });
  });

  it("admits only the endpoint: Allow with aws:SourceVpce, Deny when aws:SourceVpce is another", () => {
    const endpoint = { Ref: Match.stringLikeRegexp("ExecuteApi") };
    template.hasResourceProperties("AWS::ApiGateway::RestApi", {
      Policy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Allow",
            Action: "execute-api:Invoke",
            Resource: "execute-api:/*",
            Condition: { StringEquals: { "aws:SourceVpce": endpoint } },
          }),
          Match.objectLike({
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "execute-api:Invoke",
            Resource: "execute-api:/*",
            Condition: { StringNotEquals: { "aws:SourceVpce": endpoint } },
          }),
        ]),
      },
    });
  });

  it("routes the root and {proxy+} with any method to the component's function, unauthenticated by default", () => {
    template.hasResourceProperties("AWS::ApiGateway::Resource", { PathPart: "{proxy+}" });
    const methods = ofType("AWS::ApiGateway::Method");
    expect(methods).toHaveLength(2);
    for (const [, method] of methods) {
      expect(method.Properties).toMatchObject({
        HttpMethod: "ANY",
        AuthorizationType: "NONE",
        Integration: { Type: "AWS_PROXY" },
      });
    }
  });

  it("throttles the stage from aws.api and writes JSON access logs without bodies", () => {
    template.hasResourceProperties("AWS::ApiGateway::Stage", {
      StageName: "prod",
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("requestId") },
      MethodSettings: [
        Match.objectLike({
          ThrottlingRateLimit: config.aws.api.throttlingRateLimit,
          ThrottlingBurstLimit: config.aws.api.throttlingBurstLimit,
          DataTraceEnabled: false,
          LoggingLevel: "ERROR",
        }),
      ],
    });
  });

  it("creates an execute-api interface endpoint with private DNS when none is configured", () => {
    template.hasResourceProperties("AWS::EC2::VPCEndpoint", {
      VpcEndpointType: "Interface",
      ServiceName: Match.stringLikeRegexp("execute-api"),
      PrivateDnsEnabled: true,
    });
  });
});

describe("least privilege", () => {
  it("no statement of any policy has a wildcard action, and * resources only for the listed actions", () => {
    expect(ofType("AWS::IAM::Policy").length).toBeGreaterThan(5);
    const violations = leastPrivilegeViolations(resources, {
      starActions: STAR_RESOURCE_ACTIONS,
      wildcards: deploymentWildcards("sample", ["compute"]),
    });
    expect(violations).toEqual([]);
  });

  it("function roles carry no managed policies (no AWSLambdaBasicExecutionRole)", () => {
    for (const [, fn] of ofType("AWS::Lambda::Function")) {
      const roleId = ((fn.Properties.Role as Json)["Fn::GetAtt"] as string[])[0]!;
      expect(resources[roleId]?.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });

  it("the API function may submit, stop, invoke the submitter, publish and read job logs", () => {
    const actions = actionsOf("sample-api-compute");
    for (const action of [
      "dynamodb:UpdateItem",
      "s3:PutObject",
      "s3:DeleteObject",
      "batch:SubmitJob",
      "batch:TerminateJob",
      "batch:CancelJob",
      "batch:RegisterJobDefinition",
      "batch:TagResource",
      "iam:PassRole",
      "lambda:InvokeFunction",
      "events:PutEvents",
      "logs:GetLogEvents",
      "logs:FilterLogEvents",
    ]) {
      expect(actions).toContain(action);
    }
    expect(actions).not.toContain("dynamodb:Scan");
  });

  it("SubmitJob names this deployment's queues and the component's job definition", () => {
    const submit = statementsOf("sample-api-compute").find((s) =>
      list(s.Action).includes("batch:SubmitJob"),
    )!;
    const targets = list(submit.Resource).map(flat);
    expect(targets.filter((arn) => arn.endsWith("JobQueueArn>"))).toHaveLength(
      config.aws.gpuFamilies.length + 1,
    );
    expect(targets).toContain(
      "arn:<AWS::Partition>:batch:eu-west-1:<AWS::AccountId>:job-definition/sample-compute",
    );
  });

  it("functions that submit may create and delete only the scheduler's maxParallel consumable resources", () => {
    for (const service of ["sample-api-compute", "sample-submitter", "sample-batch-events"]) {
      const statement = statementsOf(service).find((s) =>
        list(s.Action).includes("batch:CreateConsumableResource"),
      );
      expect(statement, service).toBeDefined();
      expect(list(statement!.Action)).toContain("batch:DeleteConsumableResource");
      expect(list(statement!.Resource).map(flat)).toEqual([
        "arn:<AWS::Partition>:batch:eu-west-1:<AWS::AccountId>:consumable-resource/jobsched-*",
      ]);
    }
  });

  it("a function that registers a revision for a new image tag may tag it on creation", () => {
    for (const service of ["sample-api-compute", "sample-submitter"]) {
      const tagging = statementsOf(service)
        .filter((s) => list(s.Action).includes("batch:TagResource"))
        .flatMap((s) => list(s.Resource).map(flat));
      expect(tagging, service).toContain(
        "arn:<AWS::Partition>:batch:eu-west-1:<AWS::AccountId>:job-definition/sample-compute:*",
      );
      expect(tagging, service).toContain("arn:<AWS::Partition>:batch:eu-west-1:<AWS::AccountId>:job/*");
    }
  });

  it("each background function gets only its own grants", () => {
    const submitter = actionsOf("sample-submitter");
    expect(submitter).toContain("batch:SubmitJob");
    expect(submitter).toContain("batch:RegisterJobDefinition");
    expect(submitter).not.toContain("batch:TerminateJob");
    expect(submitter).not.toContain("s3:PutObject");

    const events = actionsOf("sample-batch-events");
    expect(events).toContain("events:PutEvents");
    expect(events).toContain("s3:DeleteObject");
    expect(events).not.toContain("s3:PutObject");
    expect(events).not.toContain("lambda:InvokeFunction");

    const reconciler = actionsOf("sample-reconciler");
    expect(reconciler).toContain("batch:TerminateJob");
    expect(reconciler).toContain("s3:DeleteObject");
    expect(reconciler).not.toContain("s3:GetObject");
  });

  it("the job role only reads payload objects", () => {
    const jobRole = ofType("AWS::IAM::Policy").find(([id]) => id.startsWith("JobsJobRole"))!;
    const actions = (jobRole[1].Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap(
      (s) => list(s.Action),
    );
    expect(actions.sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
  });
});

describe("state and payloads", () => {
  it("the bucket blocks public access, is encrypted, unversioned and expires payloads a day after the records", () => {
    template.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      VersioningConfiguration: Match.absent(),
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Prefix: "payloads/",
            ExpirationInDays: config.spec.jobs[0]!.retention.maxAgeDays + 1,
            Status: "Enabled",
          }),
        ],
      },
    });
  });

  it("the bucket policy denies every request without TLS", () => {
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: "Deny",
            Action: "s3:*",
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          }),
        ]),
      },
    });
  });

  it("the table is on-demand with point-in-time recovery, TTL on `ttl`, the store's keys and indexes, retained", () => {
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BillingMode: "PAY_PER_REQUEST",
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: Match.arrayWith([
          Match.objectLike({
            IndexName: "gsi1",
            KeySchema: [
              { AttributeName: "gsi1pk", KeyType: "HASH" },
              { AttributeName: "gsi1sk", KeyType: "RANGE" },
            ],
          }),
          Match.objectLike({ IndexName: "gsi2" }),
        ]),
      }),
    });
  });
});

describe("AWS Batch", () => {
  const keys = () => computeQueues(config.aws).map((queue) => queue.key);

  it("one compute environment and one job queue per GPU family plus the CPU one, named by resourceNames", () => {
    expect(keys()).toEqual(["cpu", "g5", "g6", "p4d", "g4dn"]);
    template.resourceCountIs("AWS::Batch::ComputeEnvironment", keys().length);
    template.resourceCountIs("AWS::Batch::JobQueue", keys().length);
    for (const key of keys()) {
      template.hasResourceProperties("AWS::Batch::JobQueue", {
        JobQueueName: resourceNames.queue("sample", key),
      });
    }
  });

  it("GPU environments run the ECS GPU-optimized AL2023 AMI on exactly the family's instance types from 0 vCPUs", () => {
    for (const family of config.aws.gpuFamilies) {
      template.hasResourceProperties("AWS::Batch::ComputeEnvironment", {
        ComputeResources: Match.objectLike({
          InstanceTypes: family.instanceTypes,
          Ec2Configuration: [{ ImageType: "ECS_AL2023_NVIDIA" }],
          MinvCpus: 0,
          MaxvCpus: family.maxvCpus,
          Type: family.capacity === "spot" ? "SPOT" : "EC2",
          AllocationStrategy:
            family.capacity === "spot" ? "SPOT_PRICE_CAPACITY_OPTIMIZED" : "BEST_FIT_PROGRESSIVE",
        }),
      });
    }
    template.hasResourceProperties("AWS::Batch::ComputeEnvironment", {
      ComputeResources: Match.objectLike({
        InstanceTypes: config.aws.cpu[0]!.instanceTypes,
        Ec2Configuration: [{ ImageType: "ECS_AL2023" }],
      }),
    });
  });

  it("queues cancel jobs stuck RUNNABLE and schedule by a fair-share policy", () => {
    for (const [, queue] of ofType("AWS::Batch::JobQueue")) {
      expect(queue.Properties.SchedulingPolicyArn).toBeDefined();
      expect(queue.Properties.JobStateTimeLimitActions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            State: "RUNNABLE",
            Action: "CANCEL",
            Reason: "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY",
          }),
          expect.objectContaining({
            State: "RUNNABLE",
            Action: "CANCEL",
            Reason: "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT",
          }),
        ]),
      );
    }
    template.hasResourceProperties("AWS::Batch::SchedulingPolicy", {
      FairsharePolicy: Match.objectLike({
        ShareDistribution: [{ ShareIdentifier: "compute", WeightFactor: 1 }],
      }),
    });
  });

  it("the job definition runs fetch-payload, then main after it succeeds, sharing the payload volume", () => {
    const [, definition] = ofType("AWS::Batch::JobDefinition")[0]!;
    expect(definition.Properties).toMatchObject({
      JobDefinitionName: "sample-compute",
      Type: "container",
      PlatformCapabilities: ["EC2"],
    });
    const task = (definition.Properties.EcsProperties as { TaskProperties: Json[] }).TaskProperties[0]!;
    const containers = task.Containers as Json[];
    expect(containers.map((container) => container.Name)).toEqual([FETCH_CONTAINER, MAIN_CONTAINER]);
    const [fetch, main] = containers as [Json, Json];
    expect(fetch).toMatchObject({ Essential: false, Image: config.aws.payloadFetchImage });
    expect(fetch.Environment).toEqual(expect.arrayContaining([{ Name: "AWS_REGION", Value: "eu-west-1" }]));
    expect(main).toMatchObject({
      Essential: true,
      Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/compute:1.0.0",
      DependsOn: [{ ContainerName: FETCH_CONTAINER, Condition: "SUCCESS" }],
      MountPoints: [{ SourceVolume: "payload", ContainerPath: "/compute/args", ReadOnly: false }],
      LogConfiguration: { LogDriver: "awslogs" },
    });
    expect(task.Volumes).toEqual([{ Name: "payload" }]);
    expect(task.TaskRoleArn).toBeDefined();
    expect(task.ExecutionRoleArn).toBeDefined();
  });
});

describe("GPU handling", () => {
  it("the definition carries VCPU and MEMORY only; GPU jobs get their GPUs per submission", () => {
    const [, definition] = ofType("AWS::Batch::JobDefinition")[0]!;
    const task = (definition.Properties.EcsProperties as { TaskProperties: Json[] }).TaskProperties[0]!;
    const main = (task.Containers as Json[]).find((container) => container.Name === MAIN_CONTAINER)!;
    expect((main.ResourceRequirements as Json[]).map((r) => r.Type)).toEqual(["VCPU", "MEMORY"]);

    const runtime = buildRuntimeConfig(config);
    const group: GroupRecord = {
      batchName: "batch-compute-20250101000000-abcdefgh",
      index: 0,
      offset: 0,
      size: 1,
      run: 0,
      state: "pending" as GroupRecord["state"],
      spec: {
        imageTagName: "1.0.0",
        timeLimitSeconds: 60,
        backoffLimit: 0,
        vcpus: 4,
        memoryMiB: 16384,
        gpuCount: 2,
        queueKey: "g5",
        variables: {},
      },
    };
    const input = submitInputFor(group, {
      component: runtime.components[0]!,
      queue: resourceNames.queue("sample", "g5"),
      jobDefinition: "sample-compute",
      bucket: "bucket",
    });
    const override = input.ecsPropertiesOverride?.taskProperties?.[0]?.containers?.find(
      (c) => c.name === MAIN_CONTAINER,
    );
    expect(override?.resourceRequirements).toContainEqual({ type: "GPU", value: "2" });
  });

  it("a GPU requirement survives CfnJobDefinition synthesis (guards the aws/aws-cdk#7586 kind of loss)", () => {
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }));
    const definition = buildJobDefinition({
      name: "gpu-check",
      image: "repo/image:1",
      payloadPath: "/in",
      fetchImage: "node:22-alpine",
      vcpus: 4,
      memoryMiB: 1024,
    });
    const withGpu = {
      ...definition,
      ecsProperties: {
        taskProperties: definition.ecsProperties.taskProperties.map((task) => ({
          ...task,
          containers: task.containers.map((container) =>
            container.name === MAIN_CONTAINER
              ? {
                  ...container,
                  resourceRequirements: [...container.resourceRequirements, { type: "GPU", value: "1" }],
                }
              : container,
          ),
        })),
      },
    };
    new batch.CfnJobDefinition(stack, "Gpu", withFetchEnvironment(withGpu, {}));
    Template.fromStack(stack).hasResourceProperties("AWS::Batch::JobDefinition", {
      EcsProperties: {
        TaskProperties: [
          Match.objectLike({
            Containers: Match.arrayWith([
              Match.objectLike({
                Name: MAIN_CONTAINER,
                ResourceRequirements: Match.arrayWith([{ Type: "GPU", Value: "1" }]),
              }),
            ]),
          }),
        ],
      },
    });
  });

  it("a component whose default GPU type no family offers fails at synth, naming the field", () => {
    const broken = structuredClone(config);
    broken.spec.jobs[0]!.node = { gpu: "nvidia-h100" };
    const stack = new Stack(new App({ builtinCloudFormationValidation: false }));
    const payloads = new PayloadBucket(stack, "Payloads", { expirationDays: 31 });
    expect(() => new JobDefinitions(stack, "Jobs", { config: broken, payloads, queueArns: [] })).toThrow(
      /^spec\.jobs\.0: node\.gpu 'nvidia-h100' matches no configured GPU type/,
    );
  });
});

describe("events, functions and operations", () => {
  it("the Batch event rule takes this deployment's queues' job state changes into a queue, with retries and a DLQ", () => {
    template.hasResourceProperties("AWS::Events::Rule", {
      EventPattern: {
        source: ["aws.batch"],
        "detail-type": ["Batch Job State Change"],
        detail: {
          jobQueue: Match.arrayWith([{ "Fn::GetAtt": [Match.stringLikeRegexp("Queuecpu"), "JobQueueArn"] }]),
        },
      },
      Targets: [
        Match.objectLike({
          DeadLetterConfig: { Arn: Match.anyValue() },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        }),
      ],
    });
  });

  it("batch-events consumes the ingest queue in batches with partial failures, dead-lettering what keeps failing", () => {
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionName: Match.objectLike({ Ref: Match.stringLikeRegexp("BatchEvents") }),
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
    });
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 10 }),
    });
  });

  it("every function is Node.js 22 on arm64 with the table and bucket names in its environment", () => {
    const functions = ofType("AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThanOrEqual(4);
    for (const [, fn] of functions) {
      expect(fn.Properties).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
      });
      const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
      expect(flat(variables.TABLE_NAME)).toMatch(/^<JobStateTable\w+>$/);
      expect(flat(variables.BUCKET_NAME)).toMatch(/^<PayloadsBucket\w+>$/);
      expect(variables.POWERTOOLS_SERVICE_NAME).toMatch(/^sample-/);
      // The component settings are in the code (esbuild define), not in Lambda's 4 KB environment.
      expect(variables.RUNTIME_CONFIG).toBeUndefined();
    }
  });

  it("the API function knows its component, the submitter, the event bus and the job log group", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          COMPONENT: "compute",
          SUBMITTER_FUNCTION_NAME: { Ref: Match.stringLikeRegexp("^Submitter") },
          EVENT_BUS_NAME: { Ref: Match.stringLikeRegexp("NotificationsBus") },
          BATCH_LOG_GROUP: { Ref: Match.stringLikeRegexp("JobLogs") },
        }),
      },
    });
  });

  it("work queues keep messages 7 days, their dead-letter queues 14 (longer, as SQS advises), and alarm when stalled", () => {
    const queues = ofType("AWS::SQS::Queue").map(([, queue]) => queue.Properties);
    const work = queues.filter((queue) => queue.RedrivePolicy !== undefined);
    expect(work).toHaveLength(2);
    for (const queue of work) expect(queue.MessageRetentionPeriod).toBe(7 * 24 * 3600);
    const dead = queues.filter((queue) => queue.RedrivePolicy === undefined);
    expect(dead.length).toBeGreaterThanOrEqual(4);
    for (const queue of dead) expect(queue.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    const stalled = ofType("AWS::CloudWatch::Alarm").filter(
      ([, alarm]) => alarm.Properties.MetricName === "ApproximateAgeOfOldestMessage",
    );
    expect(stalled.map(([, alarm]) => alarm.Properties.Threshold)).toEqual([3600, 3600]);
  });

  it("the reconciler runs every 5 minutes", () => {
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(5 minutes)" });
  });

  it("status changes on the product bus reach a queue with a dead-letter queue", () => {
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "sample-job-scheduler" });
    template.hasResourceProperties("AWS::Events::Rule", {
      EventBusName: { Ref: Match.stringLikeRegexp("NotificationsBus") },
      EventPattern: { "detail-type": ["Job Status Change", "Batch Status Change"] },
    });
    template.hasResourceProperties("AWS::SQS::Queue", {
      RedrivePolicy: { maxReceiveCount: 5, deadLetterTargetArn: Match.anyValue() },
    });
  });

  it("alarms watch every function's errors, every dead-letter queue and every rule's failed invocations", () => {
    const alarms = ofType("AWS::CloudWatch::Alarm").map(([, alarm]) => alarm.Properties);
    const count = (metric: string) => alarms.filter((alarm) => alarm.MetricName === metric).length;
    expect(count("Errors")).toBe(ofType("AWS::Lambda::Function").length);
    expect(count("ApproximateNumberOfMessagesVisible")).toBe(
      ofType("AWS::SQS::Queue").filter(([id]) => /DeadLetter|Failures/.test(id)).length,
    );
    expect(count("FailedInvocations")).toBe(ofType("AWS::Events::Rule").length);
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });
});
