import { DescribeInstanceTypesCommand, paginateDescribeInstanceTypeOfferings } from "@aws-sdk/client-ec2";
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { computeQueues } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import type { CheckResult, PreflightClients } from "./clients.js";
import { QUOTA_CLASSES, type QuotaNeed, quotaNeeds } from "./quota-classes.js";

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
