import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobSchedulerStack } from "../../cdk/stack.js";
import { MAIN_CONTAINER } from "../../lib/batch/job-definition.js";
import { parseConfig } from "../../lib/config/load.js";
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
 * A Radix user's radixconfig deployed to its prod environment: secrets (one kept by the stack, one an
 * existing SSM parameter), identity.aws, an EFS volume through an access point, readOnlyFileSystem,
 * runAsUser and two schedules; a second component with only a secret. Synthesized once with cdk-nag.
 */
const EFS = {
  fileSystemId: "fs-0123456789abcdef0",
  accessPointId: "fsap-0123456789abcdef0",
  securityGroupId: "sg-0123456789abcdef0",
};
const config = parseConfig(
  {
    metadata: { name: "acme" },
    spec: {
      jobs: [
        {
          name: "train",
          image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/train:{imageTagName}",
          schedulerPort: 8000,
          payload: { path: "/args" },
          secrets: ["DB_PASSWORD", "API_TOKEN"],
          readOnlyFileSystem: false,
          identity: {
            aws: { statements: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::models/*"] }] },
          },
          environmentConfig: [
            {
              environment: "prod",
              readOnlyFileSystem: true,
              runAsUser: 1000,
              identity: {
                aws: { policyArns: ["arn:aws:iam::aws:policy/AmazonBedrockReadOnly"] },
              },
              volumeMounts: [
                { name: "models", path: "/models", type: "aws-efs", efs: { ...EFS, readOnly: true } },
              ],
            },
          ],
          aws: { secrets: { API_TOKEN: "/prod/api-token" } },
          schedules: [
            {
              name: "nightly",
              cron: "0 2 * * *",
              timeZone: "Europe/Oslo",
              concurrencyPolicy: "Forbid",
              payload: "{}",
            },
            { name: "quarterly", cron: "*/15 * * * *", job: { variables: { MODE: "quick" } } },
          ],
        },
        { name: "etl", image: "public.ecr.aws/acme/etl:1", schedulerPort: 8001, secrets: ["TOKEN"] },
      ],
    },
    aws: { region: "eu-west-1", environment: "prod" },
  },
  "radixconfig",
);

let outdir: string;
let resources: Resources;
let findings: string[];
let synthError: Error | undefined;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "job-scheduler-radix-"));
  const app = new App({
    outdir,
    builtinCloudFormationValidation: false,
    context: { "aws:cdk:bundling-stacks": [] },
  });
  const stack = new JobSchedulerStack(app, "Acme", { config, env: { region: "eu-west-1" } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  try {
    app.synth();
  } catch (error) {
    synthError = error as Error;
  }
  const report = JSON.parse(readFileSync(join(outdir, "validation-report.json"), "utf8")) as {
    pluginReports: {
      pluginName: string;
      violations: { ruleName: string; violatingConstructs: unknown[] }[];
    }[];
  };
  findings = report.pluginReports.flatMap((plugin) =>
    plugin.violations.map(
      (violation) => `${violation.ruleName}: ${JSON.stringify(violation.violatingConstructs)}`,
    ),
  );
  resources = JSON.parse(readFileSync(join(outdir, stack.templateFile), "utf8")).Resources;
});
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

const definitionOf = (name: string) => {
  const [, definition] = ofType(resources, "AWS::Batch::JobDefinition").find(
    ([, resource]) => resource.Properties.JobDefinitionName === `acme-${name}`,
  )!;
  const task = (definition.Properties.EcsProperties as { TaskProperties: Json[] }).TaskProperties[0]!;
  const main = (task.Containers as Json[]).find((container) => container.Name === MAIN_CONTAINER)!;
  return { task, main };
};
const roleIdOf = (arn: unknown) => ((arn as Json)["Fn::GetAtt"] as string[])[0]!;
const statementsOfRole = (roleId: string): Statement[] =>
  ofType(resources, "AWS::IAM::Policy")
    .filter(([, policy]) => (policy.Properties.Roles as Json[]).some((role) => role.Ref === roleId))
    .flatMap(([, policy]) => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const secretIdOf = (component: string) =>
  ofType(resources, "AWS::SecretsManager::Secret").find(
    ([, secret]) => secret.Properties.Name === `acme/${component}`,
  )![0];

describe("a radixconfig deployed to AWS", () => {
  it("passes cdk-nag with every finding acknowledged, and synth succeeds", () => {
    expect(findings).toEqual([]);
    expect(synthError?.message).toBeUndefined();
  });

  it("secrets are secret environment variables of the main container, read with valueFrom", () => {
    const { main } = definitionOf("train");
    const secrets = main.Secrets as { Name: string; ValueFrom: unknown }[];
    expect(secrets.map((secret) => secret.Name)).toEqual(["DB_PASSWORD", "API_TOKEN"]);
    expect(flat(secrets[0]!.ValueFrom)).toBe(`<${secretIdOf("train")}>:DB_PASSWORD::`);
    expect(secrets[1]!.ValueFrom).toBe("/prod/api-token");
    expect(JSON.stringify(main.Environment)).not.toContain("DB_PASSWORD");
    expect(definitionOf("etl").main.Secrets).toEqual([
      { Name: "TOKEN", ValueFrom: { "Fn::Join": ["", [{ Ref: secretIdOf("etl") }, ":TOKEN::"]] } },
    ]);
  });

  it("each component's secret is readable only by that component's execution role", () => {
    for (const component of ["train", "etl"]) {
      const secretId = secretIdOf(component);
      const executionRole = roleIdOf(definitionOf(component).task.ExecutionRoleArn);
      const readers = ofType(resources, "AWS::IAM::Policy")
        .filter(([, policy]) =>
          (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement.some(
            (statement) =>
              list(statement.Action).includes("secretsmanager:GetSecretValue") &&
              list(statement.Resource).some((resource) => flat(resource) === `<${secretId}>`),
          ),
        )
        .flatMap(([, policy]) => (policy.Properties.Roles as Json[]).map((role) => role.Ref));
      expect(readers).toEqual([executionRole]);
      const [, resourcePolicy] = ofType(resources, "AWS::SecretsManager::ResourcePolicy").find(
        ([, policy]) => (policy.Properties.SecretId as Json).Ref === secretId,
      )!;
      expect((resourcePolicy.Properties.ResourcePolicy as { Statement: Json[] }).Statement).toEqual([
        expect.objectContaining({
          Effect: "Deny",
          Action: "secretsmanager:GetSecretValue",
          Condition: { StringNotEquals: { "aws:PrincipalArn": { "Fn::GetAtt": [executionRole, "Arn"] } } },
        }),
      ]);
    }
    // The SSM parameter: train's execution role may read that one parameter.
    const train = statementsOfRole(roleIdOf(definitionOf("train").task.ExecutionRoleArn));
    const ssm = train.filter((statement) => list(statement.Action).includes("ssm:GetParameters"));
    expect(ssm.map((statement) => flat(statement.Resource))).toEqual([
      "arn:<AWS::Partition>:ssm:eu-west-1:<AWS::AccountId>:parameter/prod/api-token",
    ]);
  });

  it("one job role per component, each reading only its own payloads; identity.aws goes to its own role", () => {
    const trainRole = roleIdOf(definitionOf("train").task.TaskRoleArn);
    const etlRole = roleIdOf(definitionOf("etl").task.TaskRoleArn);
    expect(trainRole).not.toBe(etlRole);
    const reads = (role: string) =>
      statementsOfRole(role)
        .filter((statement) => list(statement.Action).includes("s3:GetObject"))
        .map((statement) => flat(statement.Resource));
    expect(reads(trainRole)).toEqual([
      expect.stringMatching(/\/payloads\/train\/\*$/),
      "arn:aws:s3:::models/*",
    ]);
    expect(reads(etlRole)).toEqual([expect.stringMatching(/\/payloads\/etl\/\*$/)]);
    const [, role] = ofType(resources, "AWS::IAM::Role").find(([id]) => id === trainRole)!;
    expect(role.Properties.ManagedPolicyArns).toEqual(["arn:aws:iam::aws:policy/AmazonBedrockReadOnly"]);
    expect(
      ofType(resources, "AWS::IAM::Role").find(([id]) => id === etlRole)![1].Properties.ManagedPolicyArns,
    ).toBeUndefined();
    const violations = leastPrivilegeViolations(resources, {
      starActions: STAR_RESOURCE_ACTIONS,
      wildcards: [...deploymentWildcards("acme", ["train", "etl"]), /^arn:aws:s3:::models\/\*$/],
    });
    expect(violations).toEqual([]);
  });

  it("the EFS volume is a task volume with IAM and TLS, mounted read-only, with NFS opened from the Batch hosts", () => {
    const { task, main } = definitionOf("train");
    expect(task.Volumes).toContainEqual({
      Name: "vol-models",
      EfsVolumeConfiguration: {
        FileSystemId: EFS.fileSystemId,
        TransitEncryption: "ENABLED",
        AuthorizationConfig: { Iam: "ENABLED", AccessPointId: EFS.accessPointId },
      },
    });
    expect(main.MountPoints).toContainEqual({
      SourceVolume: "vol-models",
      ContainerPath: "/models",
      ReadOnly: true,
    });
    const [, ingress] = ofType(resources, "AWS::EC2::SecurityGroupIngress").find(
      ([, rule]) => rule.Properties.GroupId === EFS.securityGroupId,
    )!;
    expect(ingress.Properties).toMatchObject({ IpProtocol: "tcp", FromPort: 2049, ToPort: 2049 });
    expect(flat(ingress.Properties.SourceSecurityGroupId)).toMatch(/BatchHosts/);
    const mounts = statementsOfRole(roleIdOf(task.TaskRoleArn)).filter((statement) =>
      list(statement.Action).some((action) => action.startsWith("elasticfilesystem:")),
    );
    expect(mounts.flatMap((statement) => list(statement.Action))).toEqual(["elasticfilesystem:ClientMount"]);
  });

  it("readOnlyFileSystem and runAsUser of the prod environment reach the main container", () => {
    const { main } = definitionOf("train");
    expect(main.ReadonlyRootFilesystem).toBe(true);
    expect(main.User).toBe("1000");
    expect(definitionOf("etl").main.ReadonlyRootFilesystem).toBeUndefined();
  });

  it("one EventBridge Scheduler schedule per entry, in its time zone, invoking the scheduled-job function only", () => {
    const schedules = ofType(resources, "AWS::Scheduler::Schedule").map(
      ([, schedule]) => schedule.Properties,
    );
    expect(
      schedules.map((schedule) => [schedule.ScheduleExpression, schedule.ScheduleExpressionTimezone]),
    ).toEqual([
      ["cron(0 2 * * ? *)", "Europe/Oslo"],
      ["cron(0/15 * * * ? *)", "UTC"],
    ]);
    const [, fn] = ofType(resources, "AWS::Lambda::Function").find(
      ([, resource]) =>
        (resource.Properties.Environment as { Variables: Json }).Variables.POWERTOOLS_SERVICE_NAME ===
        "acme-scheduled-job",
    )!;
    const functionId = ofType(resources, "AWS::Lambda::Function").find(([, resource]) => resource === fn)![0];
    for (const schedule of schedules) {
      const target = schedule.Target as Json;
      expect(target.Arn).toEqual({ "Fn::GetAtt": [functionId, "Arn"] });
      const input = JSON.parse(target.Input as string);
      expect(input).toMatchObject({ component: "train", scheduledTime: "<aws.scheduler.scheduled-time>" });
      expect(schedule.FlexibleTimeWindow).toEqual({ Mode: "OFF" });
    }
    expect(JSON.parse((schedules[0]!.Target as Json).Input as string)).toMatchObject({
      schedule: "nightly",
      concurrencyPolicy: "Forbid",
      payload: "{}",
    });
    expect(JSON.parse((schedules[1]!.Target as Json).Input as string)).toMatchObject({
      concurrencyPolicy: "Allow",
      job: { variables: { MODE: "quick" } },
    });
    const schedulerRole = roleIdOf((schedules[0]!.Target as Json).RoleArn);
    const [, role] = ofType(resources, "AWS::IAM::Role").find(([id]) => id === schedulerRole)!;
    expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).toContain("scheduler.amazonaws.com");
    expect(
      statementsOfRole(schedulerRole).map((statement) => [statement.Action, flat(statement.Resource)]),
    ).toEqual([["lambda:InvokeFunction", `<${functionId}.Arn>`]]);
  });
});
