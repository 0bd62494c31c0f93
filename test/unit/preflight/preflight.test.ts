import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { GetRoleCommand, IAMClient, NoSuchEntityException } from "@aws-sdk/client-iam";
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  NoSuchResourceException,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { loadConfigFile } from "#lib/config/load.js";
import type { DeploymentConfig } from "#lib/config/schema.js";
import {
  type CheckResult,
  createClients,
  NoCredentialsError,
  runPreflight,
} from "../../../scripts/preflight/checks.js";
import { quotaClassOf, quotaNeeds } from "../../../scripts/preflight/quota-classes.js";
import { exitCodeOf, formatResults } from "../../../scripts/preflight/report.js";

const sts = mockClient(STSClient);
const ec2 = mockClient(EC2Client);
const quotas = mockClient(ServiceQuotasClient);
const iam = mockClient(IAMClient);
const cloudformation = mockClient(CloudFormationClient);

const ACCOUNT = "123456789012";
/** Recorded answers of eu-west-1: sizes offered and their vCPUs (DescribeInstanceTypes). */
const SIZES: Record<string, number> = {
  "g5.xlarge": 4,
  "g5.12xlarge": 48,
  "g5.48xlarge": 192,
  "g6.xlarge": 4,
  "g6.12xlarge": 48,
  "g6.48xlarge": 192,
  "p4d.24xlarge": 96,
  "g4dn.xlarge": 4,
  "g4dn.12xlarge": 48,
  "g4dn.metal": 96,
  "c7i.large": 2,
  "c7i.xlarge": 4,
  "m7i.large": 2,
};
/** The quotas of a well-prepared account (applied values). */
const PREPARED: Record<string, number> = {
  "L-DB2E81BA": 512, // G and VT on-demand
  "L-3819A6DF": 256, // G and VT Spot
  "L-417A185B": 96, // P on-demand
  "L-7212CCBC": 0, // P Spot
  "L-1216C47A": 1152, // Standard on-demand
  "L-34B43A08": 640, // Standard Spot
};

function answerAsAPreparedAccount(quotaValues: Record<string, number | undefined> = PREPARED) {
  sts.on(GetCallerIdentityCommand).resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/ops` });
  ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake((input: { Filters: { Values: string[] }[] }) => {
    const wanted = input.Filters[0]!.Values;
    const offered = Object.keys(SIZES).filter((size) =>
      wanted.some((value) => (value.endsWith(".*") ? size.startsWith(value.slice(0, -1)) : size === value)),
    );
    return {
      InstanceTypeOfferings: offered.map((InstanceType) => ({ InstanceType, LocationType: "region" })),
    };
  });
  ec2.on(DescribeInstanceTypesCommand).callsFake((input: { InstanceTypes: string[] }) => ({
    InstanceTypes: input.InstanceTypes.map((InstanceType) => ({
      InstanceType,
      VCpuInfo: { DefaultVCpus: SIZES[InstanceType] },
    })),
  }));
  ec2.on(DescribeVpcEndpointsCommand).resolves({ VpcEndpoints: [] });
  quotas.on(GetServiceQuotaCommand).callsFake((input: { QuotaCode: string }) => {
    const value = quotaValues[input.QuotaCode];
    if (value === undefined) throw new NoSuchResourceException({ message: "not applied", $metadata: {} });
    return { Quota: { QuotaCode: input.QuotaCode, Value: value } };
  });
  quotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 0 } });
  iam.on(GetRoleCommand).resolves({ Role: { RoleName: "x" } as never });
  cloudformation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: "CDKToolkit",
        StackStatus: "UPDATE_COMPLETE",
        CreationTime: new Date(),
        Outputs: [{ OutputKey: "BootstrapVersion", OutputValue: "27" }],
      },
    ],
  });
}

const sample = () => loadConfigFile("radixconfig.yaml");
const run = (config: DeploymentConfig = sample()) => runPreflight(config, createClients("eu-west-1"));
const line = (results: CheckResult[], check: string) => {
  const found = formatResults(results).find((text) => text.includes(`  ${check}`));
  expect(found, `a line for ${check} in:\n${formatResults(results).join("\n")}`).toBeDefined();
  return found!;
};

beforeEach(() => {
  for (const client of [sts, ec2, quotas, iam, cloudformation]) client.reset();
});

describe("npm run preflight", () => {
  it("a prepared account passes: one line per check, none failing", async () => {
    answerAsAPreparedAccount();
    const results = await run();
    expect(results.filter((result) => result.status === "fail" || result.status === "warn")).toEqual([]);
    expect(exitCodeOf(results)).toBe(0);
    const lines = formatResults(results);
    expect(lines).toHaveLength(results.length);
    expect(line(results, "account")).toMatch(/^ok {4}account: 123456789012, region eu-west-1/);
    expect(line(results, "quota P instances, on-demand")).toContain(
      '"Running On-Demand P instances" is 96 vCPUs',
    );
    expect(line(results, "CDK bootstrap")).toContain("bootstrap version 27");
    expect(line(results, "role AWSServiceRoleForEC2Spot")).toMatch(/^ok/);
    expect(line(results, "execute-api endpoint")).toMatch(/^skip/);
  });

  it("a new account's GPU quotas of 0 fail, with the quota code and the vCPUs to ask for", async () => {
    // Nothing applied: every quota is AWS's default, recorded as 0 for G/VT and P.
    answerAsAPreparedAccount({ "L-1216C47A": 1152 });
    const results = await run();
    expect(line(results, "quota G and VT instances, on-demand")).toBe(
      'FAIL  quota G and VT instances, on-demand: "Running On-Demand G and VT instances" is 0 vCPUs; queues g6, g4dn may use 288 (maxvCpus), and the smallest configured instance needs 4: no host can start. ' +
        "Fix: aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA --desired-value 288 --region eu-west-1",
    );
    expect(line(results, "quota G and VT instances, Spot")).toContain(
      "--quota-code L-3819A6DF --desired-value 192",
    );
    expect(line(results, "quota P instances, on-demand")).toContain("needs 96: no host can start");
    expect(quotas.commandCalls(GetAWSDefaultServiceQuotaCommand).length).toBeGreaterThanOrEqual(3);
    expect(exitCodeOf(results)).toBe(1);
  });

  it("a quota below the configured maxvCpus but above one instance warns", async () => {
    answerAsAPreparedAccount({ ...PREPARED, "L-417A185B": 192, "L-DB2E81BA": 64 });
    const results = await run();
    expect(line(results, "quota G and VT instances, on-demand")).toMatch(
      /^WARN .* is 64 vCPUs; queues g6, g4dn may use 288 \(maxvCpus\): Batch stops at the quota\. Fix: .*--desired-value 288/,
    );
    expect(exitCodeOf(results)).toBe(0);
  });

  it("an instance type the region does not offer fails, naming it", async () => {
    answerAsAPreparedAccount();
    delete (SIZES as Record<string, number | undefined>)["p4d.24xlarge"];
    try {
      const results = await run();
      expect(line(results, "instance types of p4d")).toMatch(
        /^FAIL .*p4d\.24xlarge is not offered in eu-west-1\. Fix: remove it from that compute's instanceTypes/,
      );
      expect(line(results, "instance types of g5")).toMatch(/^ok/);
    } finally {
      SIZES["p4d.24xlarge"] = 96;
    }
  });

  it("missing service-linked roles: Spot's fails (Batch cannot create it), Batch's warns", async () => {
    answerAsAPreparedAccount();
    iam.on(GetRoleCommand).rejects(new NoSuchEntityException({ message: "no role", $metadata: {} }));
    const results = await run();
    expect(line(results, "role AWSServiceRoleForEC2Spot")).toContain(
      "FAIL  role AWSServiceRoleForEC2Spot: missing; Spot compute environments cannot launch instances without it. Fix: aws iam create-service-linked-role --aws-service-name spot.amazonaws.com",
    );
    expect(line(results, "role AWSServiceRoleForBatch")).toMatch(
      /^WARN .*--aws-service-name batch\.amazonaws\.com$/,
    );
  });

  it("an existing VPC with an execute-api endpoint with private DNS: reuse it; a wrong endpoint id fails", async () => {
    answerAsAPreparedAccount();
    ec2.on(DescribeVpcEndpointsCommand).resolves({
      VpcEndpoints: [{ VpcEndpointId: "vpce-0aa", PrivateDnsEnabled: true, State: "Available" }],
    });
    const config = sample();
    config.aws.network = { vpcId: "vpc-1", subnetIds: ["subnet-1"] };
    expect(line(await run(config), "execute-api endpoint")).toBe(
      "WARN  execute-api endpoint: vpc-1 already has vpce-0aa with private DNS; the stack would add a second endpoint, without private DNS. Fix: set aws.network.executeApiEndpointId: vpce-0aa to use it (and the APIs' ordinary URLs)",
    );
    expect(ec2.commandCalls(DescribeVpcEndpointsCommand)[0]!.args[0].input.Filters).toEqual([
      { Name: "vpc-id", Values: ["vpc-1"] },
      { Name: "service-name", Values: ["com.amazonaws.eu-west-1.execute-api"] },
    ]);
    config.aws.network.executeApiEndpointId = "vpce-0bb";
    expect(line(await run(config), "execute-api endpoint")).toMatch(
      /^FAIL .*vpce-0bb is not an execute-api endpoint of vpc-1\. Fix: .*one of: vpce-0aa/,
    );
  });

  it("no CDK bootstrap stack, or an old one, fails with the bootstrap command", async () => {
    answerAsAPreparedAccount();
    cloudformation
      .on(DescribeStacksCommand)
      .rejects(
        Object.assign(new Error("Stack with id CDKToolkit does not exist"), { name: "ValidationError" }),
      );
    expect(line(await run(), "CDK bootstrap")).toBe(
      "FAIL  CDK bootstrap: no CDKToolkit stack in eu-west-1. Fix: npx cdk bootstrap aws://123456789012/eu-west-1",
    );
    cloudformation.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: "CDKToolkit",
          StackStatus: "CREATE_COMPLETE",
          CreationTime: new Date(),
          Outputs: [{ OutputKey: "BootstrapVersion", OutputValue: "5" }],
        },
      ],
    });
    expect(line(await run(), "CDK bootstrap")).toMatch(/^FAIL .*version 5; the stack needs 6 or later/);
  });

  it("a check it may not run says so and the others still report", async () => {
    answerAsAPreparedAccount();
    iam
      .on(GetRoleCommand)
      .rejects(Object.assign(new Error("not authorized to iam:GetRole"), { name: "AccessDenied" }));
    const results = await run();
    expect(line(results, "service-linked roles")).toBe(
      "WARN  service-linked roles: could not check (AccessDenied: not authorized to iam:GetRole)",
    );
    expect(line(results, "CDK bootstrap")).toMatch(/^ok/);
  });

  it("credentials for another account than aws.account fail the account check", async () => {
    answerAsAPreparedAccount();
    const config = sample();
    config.aws.account = "111122223333";
    expect(line(await run(config), "account")).toMatch(
      /^FAIL .*for account 123456789012, the configuration deploys to 111122223333/,
    );
  });

  it("without credentials it stops at once with NoCredentialsError", async () => {
    sts.on(GetCallerIdentityCommand).rejects(
      Object.assign(new Error("Could not load credentials from any providers"), {
        name: "CredentialsProviderError",
      }),
    );
    await expect(run()).rejects.toBeInstanceOf(NoCredentialsError);
    expect(ec2.calls()).toHaveLength(0);
  });

  it("the command without credentials prints one line and no stack trace", async () => {
    const home = mkdtempSync(join(tmpdir(), "preflight-home-"));
    try {
      const result = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "scripts/preflight.ts"],
        {
          env: {
            PATH: process.env.PATH,
            HOME: home,
            AWS_CONFIG_FILE: join(home, "none"),
            AWS_SHARED_CREDENTIALS_FILE: join(home, "none"),
            AWS_EC2_METADATA_DISABLED: "true",
          },
        },
      ).then(
        () => {
          throw new Error("preflight succeeded without credentials");
        },
        (error: { code: number; stdout: string; stderr: string }) => error,
      );
      expect(result.code).toBe(2);
      expect(result.stdout.trim().split("\n")).toEqual([
        expect.stringMatching(
          /^FAIL {2}credentials: no usable AWS credentials \(CredentialsProviderError: .*\)\. Fix: set AWS_PROFILE/,
        ),
      ]);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});

describe("EC2 quota classes", () => {
  it("maps families and Batch's keywords to the quota they draw on", () => {
    expect(
      [
        "g5.xlarge",
        "g4dn",
        "vt1.3xlarge",
        "gr6.4xlarge",
        "p4d.24xlarge",
        "p5",
        "c7i",
        "m7g.large",
        "optimal",
        "i4i",
        "inf2",
        "trn1",
        "x2idn",
      ].map(quotaClassOf),
    ).toEqual([
      "gvt",
      "gvt",
      "gvt",
      "gvt",
      "p",
      "p",
      "standard",
      "standard",
      "standard",
      "standard",
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("sums the maxvCpus of every compute environment per quota (both capacities count twice)", () => {
    const config = sample();
    config.aws.cpu = [{ ...config.aws.cpu[0]!, capacity: "both" }];
    const { needs } = quotaNeeds(config.aws);
    const find = (quotaClass: string, capacity: string) =>
      needs.find((need) => need.quotaClass === quotaClass && need.capacity === capacity);
    expect(find("standard", "onDemand")).toMatchObject({ vcpus: 256, queues: ["cpu"] });
    expect(find("standard", "spot")).toMatchObject({ vcpus: 256, queues: ["cpu-spot"] });
    expect(find("gvt", "onDemand")).toMatchObject({ vcpus: 288, queues: ["g6", "g4dn"] });
  });
});
