import type { DeploymentConfig } from "../../lib/config/schema.js";
import { checkBootstrap, checkExecuteApiEndpoint, checkServiceLinkedRoles } from "./account-setup.js";
import { checkInstanceOfferings, checkQuotas } from "./capacity.js";
import {
  type CheckResult,
  callerAccount,
  checkAccount,
  errorText,
  type PreflightClients,
} from "./clients.js";

export { MIN_BOOTSTRAP_VERSION } from "./account-setup.js";
export {
  type CheckResult,
  createClients,
  NoCredentialsError,
  type PreflightClients,
  type Status,
} from "./clients.js";

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
