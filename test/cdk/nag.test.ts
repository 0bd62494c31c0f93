import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobSchedulerStack } from "../../cdk/stack.js";
import { loadConfigFile, parseConfig } from "../../lib/config/load.js";
import { buildRuntimeConfig, resourceNames } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import {
  deploymentWildcards,
  flat,
  type Json,
  leastPrivilegeViolations,
  list,
  ofType,
  type Resources,
  STAR_RESOURCE_ACTIONS,
  type Statement,
} from "./helpers.js";

/**
 * Existing VPC (no endpoint id: one is created in the given subnets), account and region both set (synth must
 * still make no lookups), IAM auth, tracing, provisioned concurrency, two components (one GPU by default, one
 * without payload), a GPU family given as an instance family, a Spot CPU compute and a Graviton one with
 * both capacities, weighted projects (one with maxRunningJobs).
 */
const importedNetwork = parseConfig({
  metadata: { name: "acme" },
  spec: {
    jobs: [
      {
        name: "train",
        image: "public.ecr.aws/acme/train:{imageTagName}",
        schedulerPort: 8000,
        payload: { path: "/data" },
        node: { gpu: "nvidia-a10g", gpuCount: 1 },
      },
      {
        name: "etl",
        image: "111122223333.dkr.ecr.eu-north-1.amazonaws.com/etl:{imageTagName}",
        schedulerPort: 8001,
      },
    ],
  },
  aws: {
    account: "111122223333",
    region: "eu-north-1",
    network: {
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
    },
    api: { iamAuth: true },
    functions: { tracing: true, reservedConcurrency: 20, provisionedConcurrency: 2 },
    gpuFamilies: [{ family: "g5", gpuTypes: ["nvidia-a10g"], instanceTypes: ["g5"], maxGpusPerInstance: 8 }],
    cpu: [{ spot: true }, { architecture: "arm64", capacity: "both" }],
  },
  projects: [{ name: "team-a", weight: 2.5, maxRunningJobs: 4 }, { name: "team-b" }],
});

const ENDPOINT = "vpce-0123456789abcdef0";

let outdir: string;
let synthError: Error | undefined;
let report: {
  pluginReports: { pluginName: string; violations: { ruleName: string; violatingConstructs: unknown[] }[] }[];
};
const templates = new Map<string, Resources>();
const outputs = new Map<string, Record<string, { Value: unknown }>>();

beforeAll(() => {
  const sample = loadConfigFile("radixconfig.yaml");
  const importedEndpoint: DeploymentConfig = structuredClone(sample);
  importedEndpoint.aws.network.executeApiEndpointId = ENDPOINT;
  outdir = mkdtempSync(join(tmpdir(), "job-scheduler-nag-"));
  // CDK's built-in CloudFormation validation stays on here: it checks the templates against the schemas.
  const app = new App({ outdir, context: { "aws:cdk:bundling-stacks": [] } });
  const stacks = [
    new JobSchedulerStack(app, "Sample", { config: sample, env: { region: sample.aws.region } }),
    new JobSchedulerStack(app, "ImportedNetwork", {
      config: importedNetwork,
      env: { account: importedNetwork.aws.account, region: importedNetwork.aws.region },
    }),
    new JobSchedulerStack(app, "ImportedEndpoint", {
      config: importedEndpoint,
      env: { region: sample.aws.region },
    }),
  ];
  // cdk-nag 3: a policy validation plugin (Aspects crash in v3). Findings go to validation-report.json and
  // any unacknowledged one makes synth throw "Validation failed".
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (error) {
    synthError = error as Error;
  }
  report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8"));
  for (const stack of stacks) {
    const template = JSON.parse(readFileSync(join(outdir, stack.templateFile), "utf8"));
    templates.set(stack.node.id, template.Resources);
    outputs.set(stack.node.id, template.Outputs);
  }
});

afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing unacknowledged in the sample and in both network variants, and synth succeeds", () => {
    const findings = report.pluginReports.flatMap((plugin) =>
      plugin.violations.map(
        (violation) =>
          `${plugin.pluginName} ${violation.ruleName}: ${JSON.stringify(violation.violatingConstructs)}`,
      ),
    );
    expect(findings).toEqual([]);
    expect(synthError?.message).toBeUndefined();
  });
});

describe("an existing VPC with IAM auth, tracing and provisioned concurrency", () => {
  const resources = () => templates.get("ImportedNetwork")!;

  it("creates no VPC, and an execute-api endpoint without private DNS in the given subnets", () => {
    expect(ofType(resources(), "AWS::EC2::VPC")).toEqual([]);
    const endpoints = ofType(resources(), "AWS::EC2::VPCEndpoint").map(([, endpoint]) => endpoint.Properties);
    // Private DNS in somebody's VPC would clash with an endpoint that has it, or send every public API
    // Gateway URL called from the VPC to this endpoint.
    expect(endpoints).toEqual([
      expect.objectContaining({
        VpcId: "vpc-0123456789abcdef0",
        ServiceName: "com.amazonaws.eu-north-1.execute-api",
        VpcEndpointType: "Interface",
        PrivateDnsEnabled: false,
        SubnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"],
      }),
    ]);
  });

  it("gives the endpoint-specific API URL, which works without private DNS", () => {
    const [endpointId] = ofType(resources(), "AWS::EC2::VPCEndpoint")[0]!;
    const urls = Object.entries(outputs.get("ImportedNetwork")!)
      .filter(([name]) => name.startsWith("ApiUrl"))
      .map(([, output]) => flat(output.Value));
    expect(urls).toHaveLength(2);
    for (const url of urls)
      expect(url).toMatch(
        new RegExp(
          `^https://<JobsApi\\w+>-<${endpointId}>\\.execute-api\\.eu-north-1\\.<AWS::URLSuffix>/prod/$`,
        ),
      );
  });

  it("runs Batch hosts in the given subnets; a family name is passed as a family", () => {
    const environments = ofType(resources(), "AWS::Batch::ComputeEnvironment").map(
      ([, environment]) => environment.Properties.ComputeResources as Json,
    );
    for (const environment of environments)
      expect(environment.Subnets).toEqual(["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]);
    expect(environments.map((environment) => environment.InstanceTypes)).toContainEqual(["g5"]);
    expect(environments.map((environment) => environment.InstanceTypes)).toContainEqual(["optimal"]);
    expect(
      environments
        .filter((environment) => (environment.InstanceTypes as string[])[0] === "default_arm64")
        .map((environment) => environment.Type),
    ).toEqual(["EC2", "SPOT"]);
  });

  it("requires SigV4 on every method and admits this account through the endpoint only", () => {
    for (const [, method] of ofType(resources(), "AWS::ApiGateway::Method")) {
      expect(method.Properties.AuthorizationType).toBe("AWS_IAM");
    }
    for (const [, api] of ofType(resources(), "AWS::ApiGateway::RestApi")) {
      const [allow] = (api.Properties.Policy as { Statement: Json[] }).Statement;
      expect(flat((allow!.Principal as Json).AWS)).toBe("arn:<AWS::Partition>:iam::111122223333:root");
    }
  });

  it("one API per component, invoked through the provisioned `live` alias", () => {
    expect(ofType(resources(), "AWS::ApiGateway::RestApi")).toHaveLength(2);
    const aliases = ofType(resources(), "AWS::Lambda::Alias").map(([, alias]) => alias.Properties);
    expect(aliases).toHaveLength(2);
    for (const alias of aliases) {
      expect(alias).toMatchObject({
        Name: "live",
        ProvisionedConcurrencyConfig: { ProvisionedConcurrentExecutions: 2 },
      });
    }
  });

  it("traces every function, and only X-Ray's actions join the Resource * allow-list", () => {
    for (const [, fn] of ofType(resources(), "AWS::Lambda::Function")) {
      expect(fn.Properties.TracingConfig).toEqual({ Mode: "Active" });
    }
    const violations = leastPrivilegeViolations(resources(), {
      starActions: new Set([...STAR_RESOURCE_ACTIONS, "xray:PutTraceSegments", "xray:PutTelemetryRecords"]),
      wildcards: deploymentWildcards("acme", ["train", "etl"]),
    });
    expect(violations).toEqual([]);
  });

  it("a component without payload runs only its main container; ECR pulls are scoped to its repository", () => {
    const definitions = ofType(resources(), "AWS::Batch::JobDefinition").map(([, d]) => d.Properties);
    const etl = definitions.find((definition) => definition.JobDefinitionName === "acme-etl")!;
    const task = (etl.EcsProperties as { TaskProperties: Json[] }).TaskProperties[0]!;
    expect((task.Containers as Json[]).map((container) => container.Name)).toEqual(["main"]);
    const pulls = ofType(resources(), "AWS::IAM::Policy")
      .flatMap(
        ([, policy]) =>
          (
            policy.Properties.PolicyDocument as {
              Statement: { Action: string | string[]; Resource: unknown }[];
            }
          ).Statement,
      )
      .filter((statement) => list(statement.Action).includes("ecr:BatchGetImage"));
    expect(pulls.map((statement) => flat(statement.Resource))).toEqual([
      "arn:<AWS::Partition>:ecr:eu-north-1:111122223333:repository/etl",
    ]);
  });

  it("the GPU component's default resources give its job definition 1 vCPU and 512 MiB", () => {
    const definitions = ofType(resources(), "AWS::Batch::JobDefinition").map(([, d]) => d.Properties);
    const train = definitions.find((definition) => definition.JobDefinitionName === "acme-train")!;
    const main = (
      train.EcsProperties as { TaskProperties: { Containers: Json[] }[] }
    ).TaskProperties[0]!.Containers.find((container) => container.Name === "main")!;
    expect(main.ResourceRequirements).toEqual([
      { Type: "VCPU", Value: "1" },
      { Type: "MEMORY", Value: "512" },
    ]);
  });
});

describe("a project's maxRunningJobs", () => {
  const resources = () => templates.get("ImportedNetwork")!;

  it("is one REPLENISHABLE consumable resource of that quantity, named as the functions name it", () => {
    const limits = ofType(resources(), "AWS::Batch::ConsumableResource").map(([, r]) => r.Properties);
    expect(limits).toEqual([
      {
        ConsumableResourceName: resourceNames.projectLimit("acme", "team-a"),
        ResourceType: "REPLENISHABLE",
        TotalQuantity: 4,
      },
    ]);
    expect(buildRuntimeConfig(importedNetwork).projects).toContainEqual({
      name: "team-a",
      weight: 2.5,
      maxRunningJobs: 4,
      consumableResource: "acme-project-team-a",
    });
  });

  it("every function that submits may name it at SubmitJob", () => {
    const [limitId] = ofType(resources(), "AWS::Batch::ConsumableResource")[0]!;
    const submitters = ofType(resources(), "AWS::IAM::Policy").filter(([, policy]) =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some((statement) =>
        list(statement.Action).includes("batch:SubmitJob"),
      ),
    );
    // The API of each component, the submitter, the events handler and the reconciler.
    expect(submitters.length).toBeGreaterThanOrEqual(5);
    for (const [id, policy] of submitters) {
      const submit = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.find(
        (statement) => list(statement.Action).includes("batch:SubmitJob"),
      )!;
      // The resource's Ref is its ARN (aws-cdk-lib ConsumableResource.consumableResourceArn).
      expect(list(submit.Resource).map(flat), id).toContain(`<${limitId}>`);
    }
  });
});

describe("an existing execute-api endpoint", () => {
  it("creates no endpoint and names the given one in the resource policy", () => {
    const resources = templates.get("ImportedEndpoint")!;
    expect(
      ofType(resources, "AWS::EC2::VPCEndpoint").map(([, e]) => e.Properties.VpcEndpointType),
    ).not.toContain("Interface");
    const [, api] = ofType(resources, "AWS::ApiGateway::RestApi")[0]!;
    expect(JSON.stringify(api.Properties.Policy)).toContain(`"aws:SourceVpce":"${ENDPOINT}"`);
    expect(api.Properties.EndpointConfiguration).toEqual({ Types: ["PRIVATE"], VpcEndpointIds: [ENDPOINT] });
  });

  it("gives both URL forms: whether that endpoint has private DNS is up to it", () => {
    const values = Object.values(outputs.get("ImportedEndpoint")!).map((output) => flat(output.Value));
    expect(values.some((url) => url.includes(`-${ENDPOINT}.execute-api.`))).toBe(true);
    expect(values.some((url) => /^https:\/\/<JobsApi\w+>\.execute-api\./.test(url))).toBe(true);
  });
});
