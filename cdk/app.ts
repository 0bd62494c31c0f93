import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { ConfigError, loadConfigFile } from "../lib/config/load.js";
import { JobSchedulerStack } from "./stack.js";

/**
 * The CDK app: one stack from the configuration file that cdk.json's context `configFile` names
 * (override with `-c configFile=other.yaml`), for the Radix environment `aws.environment` names (override
 * with `-c environment=prod`). cdk-nag's AwsSolutions checks run on every synth; each
 * acknowledged rule carries its reason next to the resource.
 */
const app = new App();
const configFile: string = app.node.tryGetContext("configFile") ?? "radixconfig.yaml";
let config: ReturnType<typeof loadConfigFile>;
try {
  config = loadConfigFile(configFile, { environment: app.node.tryGetContext("environment") });
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

new JobSchedulerStack(app, `${config.metadata.name}-job-scheduler`, {
  config,
  description: `Radix-compatible job scheduler '${config.metadata.name}' on AWS Batch`,
  // No account lookups: without aws.account the stack is account-agnostic.
  env: { account: config.aws.account, region: config.aws.region },
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
