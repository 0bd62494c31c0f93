import { DescribeStacksCommand, type Stack } from "@aws-sdk/client-cloudformation";
import { DescribeVpcEndpointsCommand } from "@aws-sdk/client-ec2";
import { GetRoleCommand } from "@aws-sdk/client-iam";
import { computeQueues } from "../../lib/config/runtime.js";
import type { DeploymentConfig } from "../../lib/config/schema.js";
import type { CheckResult, PreflightClients } from "./clients.js";

/** The CDK bootstrap version aws-cdk-lib's templates require (their CheckBootstrapVersion rule). */
export const MIN_BOOTSTRAP_VERSION = 6;

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
