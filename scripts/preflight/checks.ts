import { CloudFormationClient, DescribeStacksCommand, type Stack } from "@aws-sdk/client-cloudformation";
import {
  DescribeInstanceTypesCommand,
  DescribeVpcEndpointsCommand,
  EC2Client,
  paginateDescribeInstanceTypeOfferings,
} from "@aws-sdk/client-ec2";
import { GetRoleCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from "@aws-sdk/client-service-quotas";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { computeQueues } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import { QUOTA_CLASSES, type QuotaNeed, quotaNeeds } from "./quota-classes.js";

/** The read-only clients the checks use, all for the deployment's region. */
export interface PreflightClients {
  sts: STSClient;
  ec2: EC2Client;
  quotas: ServiceQuotasClient;
  iam: IAMClient;
  cloudformation: CloudFormationClient;
}

export function createClients(region: string): PreflightClients {
  const options = { region, maxAttempts: 3 };
  return {
    sts: new STSClient(options),
    ec2: new EC2Client(options),
    quotas: new ServiceQuotasClient(options),
    iam: new IAMClient(options),
    cloudformation: new CloudFormationClient(options),
  };
}

export type Status = "ok" | "warn" | "fail" | "skip";

/** One line of the report: what was checked, what was found and, when it is not ok, what to do. */
export interface CheckResult {
  check: string;
  status: Status;
  detail: string;
  fix?: string;
}

/** The CDK bootstrap version aws-cdk-lib's templates require (their CheckBootstrapVersion rule). */
export const MIN_BOOTSTRAP_VERSION = 6;

/** Raised when there are no usable credentials: the report is then one line, not a list of failures. */
export class NoCredentialsError extends Error {}

const errorText = (error: unknown) => {
  const { name, message } = error as { name?: string; message?: string };
  return `${name ?? "Error"}: ${(message ?? String(error)).split("\n")[0]!.slice(0, 200)}`;
};

const CREDENTIAL_ERRORS = new Set([
  "CredentialsProviderError",
  "ExpiredToken",
  "ExpiredTokenException",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
  "TokenRefreshRequired",
]);

/** Who the credentials are; a missing or expired credential is {@link NoCredentialsError}. */
export async function callerAccount(clients: PreflightClients): Promise<string> {
  try {
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
    return identity.Account!;
  } catch (error) {
    const name = (error as { name?: string }).name ?? "";
    if (CREDENTIAL_ERRORS.has(name) || /credential/i.test(errorText(error))) {
      throw new NoCredentialsError(errorText(error), { cause: error });
    }
    throw error;
  }
}

export function checkAccount(config: DeploymentConfig, account: string): CheckResult {
  const expected = config.aws.account;
  if (expected && expected !== account) {
    return {
      check: "account",
      status: "fail",
      detail: `the credentials are for account ${account}, the configuration deploys to ${expected}`,
      fix: `use credentials of ${expected} (AWS_PROFILE), or change aws.account`,
    };
  }
  return {
    check: "account",
    status: "ok",
    detail: `${account}, region ${config.aws.region} (stack ${config.metadata.name}-job-scheduler)`,
  };
}

/** The applied quota value, or AWS's default when the account has never changed it. */
async function quotaValue(clients: PreflightClients, code: string): Promise<number> {
  try {
    const applied = await clients.quotas.send(
      new GetServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code }),
    );
    return applied.Quota?.Value ?? 0;
  } catch (error) {
    if ((error as { name?: string }).name !== "NoSuchResourceException") throw error;
    const fallback = await clients.quotas.send(
      new GetAWSDefaultServiceQuotaCommand({ ServiceCode: "ec2", QuotaCode: code }),
    );
    return fallback.Quota?.Value ?? 0;
  }
}

/** vCPUs of each configured instance size offered in the region (families and keywords have none). */
async function vcpusOfSizes(clients: PreflightClients, sizes: string[]): Promise<Map<string, number>> {
  const vcpus = new Map<string, number>();
  if (sizes.length === 0) return vcpus;
  const result = await clients.ec2.send(
    new DescribeInstanceTypesCommand({ InstanceTypes: sizes as never[] }),
  );
  for (const type of result.InstanceTypes ?? []) {
    if (type.InstanceType && type.VCpuInfo?.DefaultVCpus)
      vcpus.set(type.InstanceType, type.VCpuInfo.DefaultVCpus);
  }
  return vcpus;
}

/**
 * Per EC2 vCPU quota the stack draws on (G and VT, P, Standard; on-demand and Spot): fail when not even
 * the smallest configured instance fits in it (Batch can never start a host: jobs wait RUNNABLE until the
 * queue cancels them), warn when it is below the sum of the compute environments' maxvCpus.
 */
export async function checkQuotas(
  config: DeploymentConfig,
  clients: PreflightClients,
  offeredSizes: ReadonlySet<string>,
): Promise<CheckResult[]> {
  const { region } = config.aws;
  const { needs, unchecked } = quotaNeeds(config.aws);
  const sizes = [...new Set(needs.flatMap((need) => need.instanceTypes))].filter(
    (type) => type.includes(".") && offeredSizes.has(type),
  );
  const vcpus = await vcpusOfSizes(clients, sizes);
  const results: CheckResult[] = [];
  for (const need of needs) {
    results.push(await checkQuota(need, clients, region, vcpus));
  }
  for (const { queue, instanceType } of unchecked) {
    results.push({
      check: `quota ${instanceType}`,
      status: "skip",
      detail: `queue ${queue}: ${instanceType} has a quota of its own that this check does not cover; see Service Quotas → EC2`,
    });
  }
  return results;
}

async function checkQuota(
  need: QuotaNeed,
  clients: PreflightClients,
  region: string,
  vcpus: ReadonlyMap<string, number>,
): Promise<CheckResult> {
  const quota = QUOTA_CLASSES[need.quotaClass][need.capacity];
  const check = `quota ${QUOTA_CLASSES[need.quotaClass].label}, ${need.capacity === "spot" ? "Spot" : "on-demand"}`;
  const value = await quotaValue(clients, quota.code);
  const sized = need.instanceTypes.map((type) => vcpus.get(type)).filter((n): n is number => n !== undefined);
  // Families and keywords: the smallest size is unknown here; one vCPU is the least any instance has.
  const smallest = sized.length === need.instanceTypes.length && sized.length > 0 ? Math.min(...sized) : 1;
  const fix = `aws service-quotas request-service-quota-increase --service-code ec2 --quota-code ${quota.code} --desired-value ${need.vcpus} --region ${region}`;
  const what = `"${quota.name}" is ${value} vCPUs; queues ${need.queues.join(", ")} may use ${need.vcpus} (maxvCpus)`;
  if (value < smallest) {
    return {
      check,
      status: "fail",
      detail: `${what}, and the smallest configured instance needs ${smallest}: no host can start`,
      fix,
    };
  }
  if (value < need.vcpus) return { check, status: "warn", detail: `${what}: Batch stops at the quota`, fix };
  return { check, status: "ok", detail: what };
}

/** Sizes and families of `instanceTypes` that the region does not offer; keywords are Batch's own. */
export async function checkInstanceOfferings(
  config: DeploymentConfig,
  clients: PreflightClients,
): Promise<{ results: CheckResult[]; offered: Set<string> }> {
  const queues = computeQueues(config.aws);
  const entries = [...new Set(queues.flatMap((queue) => queue.instanceTypes))].filter(
    (type) => !["optimal", "default_x86_64", "default_arm64"].includes(type),
  );
  const offered = new Set<string>();
  if (entries.length === 0) return { results: [], offered };
  const values = entries.map((type) => (type.includes(".") ? type : `${type}.*`));
  for await (const page of paginateDescribeInstanceTypeOfferings(
    { client: clients.ec2 },
    { LocationType: "region", Filters: [{ Name: "instance-type", Values: values }] },
  )) {
    for (const offering of page.InstanceTypeOfferings ?? [])
      if (offering.InstanceType) offered.add(offering.InstanceType);
  }
  const isOffered = (type: string) =>
    type.includes(".") ? offered.has(type) : [...offered].some((size) => size.startsWith(`${type}.`));
  const { region } = config.aws;
  const results = queues.map((queue): CheckResult => {
    const missing = queue.instanceTypes.filter((type) => entries.includes(type) && !isOffered(type));
    const check = `instance types of ${queue.key}`;
    if (missing.length === 0)
      return { check, status: "ok", detail: `${queue.instanceTypes.join(", ")} offered in ${region}` };
    return {
      check,
      status: "fail",
      detail: `${missing.join(", ")} ${missing.length > 1 ? "are" : "is"} not offered in ${region}`,
      fix: `remove ${missing.length > 1 ? "them" : "it"} from that compute's instanceTypes, or deploy to a region that has ${missing.length > 1 ? "them" : "it"} (aws ec2 describe-instance-type-offerings --region ${region} --filters Name=instance-type,Values=${missing[0]}${missing[0]!.includes(".") ? "" : ".*"})`,
    };
  });
  return { results, offered };
}

async function roleExists(clients: PreflightClients, roleName: string): Promise<boolean> {
  try {
    await clients.iam.send(new GetRoleCommand({ RoleName: roleName }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchEntityException") return false;
    throw error;
  }
}

/**
 * AWS Batch's service-linked role (Batch creates it with the first compute environment, if the deploying
 * role may create service-linked roles) and, with Spot capacity, EC2 Spot's, which EC2 creates only for
 * console requests: API callers such as AWS Batch need it to exist
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/service-linked-roles-spot-instance-requests.html).
 */
export async function checkServiceLinkedRoles(
  config: DeploymentConfig,
  clients: PreflightClients,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  results.push(
    (await roleExists(clients, "AWSServiceRoleForBatch"))
      ? { check: "role AWSServiceRoleForBatch", status: "ok", detail: "exists" }
      : {
          check: "role AWSServiceRoleForBatch",
          status: "warn",
          detail:
            "missing; AWS Batch creates it with the first compute environment if the deploying role may",
          fix: "aws iam create-service-linked-role --aws-service-name batch.amazonaws.com",
        },
  );
  const spot = computeQueues(config.aws).some((queue) => queue.capacity === "spot");
  if (!spot) {
    results.push({
      check: "role AWSServiceRoleForEC2Spot",
      status: "skip",
      detail: "no Spot capacity is configured",
    });
  } else {
    results.push(
      (await roleExists(clients, "AWSServiceRoleForEC2Spot"))
        ? { check: "role AWSServiceRoleForEC2Spot", status: "ok", detail: "exists" }
        : {
            check: "role AWSServiceRoleForEC2Spot",
            status: "fail",
            detail: "missing; Spot compute environments cannot launch instances without it",
            fix: "aws iam create-service-linked-role --aws-service-name spot.amazonaws.com",
          },
    );
  }
  return results;
}

/**
 * With `aws.network.vpcId`: the configured endpoint must be an execute-api endpoint of that VPC; without
 * one, an existing endpoint with private DNS is worth reusing (the stack would add a second one, without
 * private DNS, and the API would be reached only by its endpoint-specific URL).
 */
export async function checkExecuteApiEndpoint(
  config: DeploymentConfig,
  clients: PreflightClients,
): Promise<CheckResult> {
  const { vpcId, executeApiEndpointId } = config.aws.network;
  const check = "execute-api endpoint";
  if (!vpcId)
    return { check, status: "skip", detail: "the stack creates its VPC and an endpoint with private DNS" };
  const service = `com.amazonaws.${config.aws.region}.execute-api`;
  const found = await clients.ec2.send(
    new DescribeVpcEndpointsCommand({
      Filters: [
        { Name: "vpc-id", Values: [vpcId] },
        { Name: "service-name", Values: [service] },
      ],
    }),
  );
  const endpoints = (found.VpcEndpoints ?? []).filter(
    (endpoint) =>
      !["deleted", "deleting", "rejected", "failed"].includes(String(endpoint.State).toLowerCase()),
  );
  if (executeApiEndpointId) {
    const endpoint = endpoints.find((candidate) => candidate.VpcEndpointId === executeApiEndpointId);
    if (!endpoint) {
      return {
        check,
        status: "fail",
        detail: `${executeApiEndpointId} is not an execute-api endpoint of ${vpcId}`,
        fix: `set aws.network.executeApiEndpointId to one of: ${endpoints.map((e) => e.VpcEndpointId).join(", ") || "(none in this VPC; remove the field and the stack creates one)"}`,
      };
    }
    return {
      check,
      status: "ok",
      detail: `${executeApiEndpointId} in ${vpcId}, private DNS ${endpoint.PrivateDnsEnabled ? "on: use output ApiUrl-<component>" : "off: use output ApiEndpointUrl-<component>"}`,
    };
  }
  const withDns = endpoints.filter((endpoint) => endpoint.PrivateDnsEnabled);
  if (withDns.length > 0) {
    const id = withDns[0]!.VpcEndpointId;
    return {
      check,
      status: "warn",
      detail: `${vpcId} already has ${id} with private DNS; the stack would add a second endpoint, without private DNS`,
      fix: `set aws.network.executeApiEndpointId: ${id} to use it (and the APIs' ordinary URLs)`,
    };
  }
  return {
    check,
    status: "ok",
    detail: `none with private DNS in ${vpcId}: the stack creates one without private DNS (output ApiUrl-<component> uses its own name)`,
  };
}

/** `cdk deploy` needs the CDKToolkit stack (asset bucket, deploy roles) at a version the templates accept. */
export async function checkBootstrap(
  config: DeploymentConfig,
  clients: PreflightClients,
  account: string,
): Promise<CheckResult> {
  const check = "CDK bootstrap";
  const fix = `npx cdk bootstrap aws://${account}/${config.aws.region}`;
  let stack: Stack[] | undefined;
  try {
    stack = (await clients.cloudformation.send(new DescribeStacksCommand({ StackName: "CDKToolkit" })))
      .Stacks;
  } catch (error) {
    if (/does not exist/.test((error as Error).message ?? "")) {
      return { check, status: "fail", detail: `no CDKToolkit stack in ${config.aws.region}`, fix };
    }
    throw error;
  }
  const toolkit = stack?.[0];
  const status = toolkit?.StackStatus ?? "missing";
  if (!/_COMPLETE$/.test(status) || /^(DELETE|ROLLBACK)_/.test(status) || status.includes("FAILED")) {
    return { check, status: "fail", detail: `CDKToolkit is ${status}`, fix };
  }
  const version = Number(
    toolkit?.Outputs?.find((output) => output.OutputKey === "BootstrapVersion")?.OutputValue,
  );
  if (!(version >= MIN_BOOTSTRAP_VERSION)) {
    return {
      check,
      status: "fail",
      detail: `CDKToolkit has bootstrap version ${Number.isNaN(version) ? "unknown" : version}; the stack needs ${MIN_BOOTSTRAP_VERSION} or later`,
      fix,
    };
  }
  return { check, status: "ok", detail: `CDKToolkit ${status}, bootstrap version ${version}` };
}

/** A check that could not run (no permission, a throttle) says so and does not hide the others. */
async function guarded<T extends CheckResult | CheckResult[]>(
  check: string,
  run: () => Promise<T>,
): Promise<CheckResult[]> {
  try {
    const result = await run();
    return Array.isArray(result) ? result : [result];
  } catch (error) {
    return [{ check, status: "warn", detail: `could not check (${errorText(error)})` }];
  }
}

/** Every check, in report order. Throws {@link NoCredentialsError} when there are no credentials. */
export async function runPreflight(
  config: DeploymentConfig,
  clients: PreflightClients,
): Promise<CheckResult[]> {
  const account = await callerAccount(clients);
  const results: CheckResult[] = [checkAccount(config, account)];
  let offered = new Set<string>();
  results.push(
    ...(await guarded("instance types", async () => {
      const checked = await checkInstanceOfferings(config, clients);
      offered = checked.offered;
      return checked.results;
    })),
  );
  results.push(...(await guarded("EC2 quotas", () => checkQuotas(config, clients, offered))));
  results.push(...(await guarded("service-linked roles", () => checkServiceLinkedRoles(config, clients))));
  results.push(...(await guarded("execute-api endpoint", () => checkExecuteApiEndpoint(config, clients))));
  results.push(...(await guarded("CDK bootstrap", () => checkBootstrap(config, clients, account))));
  return results;
}
