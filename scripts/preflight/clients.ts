import { CloudFormationClient } from "@aws-sdk/client-cloudformation";
import { EC2Client } from "@aws-sdk/client-ec2";
import { IAMClient } from "@aws-sdk/client-iam";
import { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { DeploymentConfig } from "../../lib/config/schema.js";

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

/** Raised when there are no usable credentials: the report is then one line, not a list of failures. */
export class NoCredentialsError extends Error {}

export const errorText = (error: unknown) => {
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
