import { readFileSync } from "node:fs";
import { ConfigError, loadConfigFile } from "../lib/config/load.js";
import { createClients, NoCredentialsError, runPreflight } from "./preflight/checks.js";
import { exitCodeOf, formatResults } from "./preflight/report.js";

/**
 * `npm run preflight [-- --config FILE]`: read-only checks against the account and region the
 * configuration deploys to, before the first `cdk deploy`. One line per check, with the fix for what
 * fails. Exit 0 (warnings allowed), 1 (something fails), 2 (no credentials or no usable configuration).
 */
function configFile(argv: readonly string[]): string {
  const flag = argv.indexOf("--config");
  if (flag >= 0 && argv[flag + 1]) return argv[flag + 1]!;
  try {
    const context = JSON.parse(readFileSync("cdk.json", "utf8")).context as { configFile?: string };
    return context.configFile ?? "radixconfig.yaml";
  } catch {
    return "radixconfig.yaml";
  }
}

async function main(): Promise<number> {
  const file = configFile(process.argv.slice(2));
  let config: ReturnType<typeof loadConfigFile>;
  try {
    config = loadConfigFile(file);
  } catch (error) {
    console.log(`FAIL  configuration: ${(error as Error).message}`);
    return error instanceof ConfigError ? 2 : 1;
  }
  // The SDK's notice that releases after January 2027 need Node 22: the versions here are pinned for Node
  // 20 on purpose (TOOLCHAIN.md), and the report stays one line per check.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  try {
    const results = await runPreflight(config, createClients(config.aws.region));
    for (const line of formatResults(results)) console.log(line);
    return exitCodeOf(results);
  } catch (error) {
    if (error instanceof NoCredentialsError) {
      console.log(
        `FAIL  credentials: no usable AWS credentials (${error.message}). Fix: set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, then run npm run preflight again`,
      );
      return 2;
    }
    const { name, message } = error as Error;
    console.log(`FAIL  preflight: ${name}: ${String(message).split("\n")[0]}`);
    return 1;
  }
}

process.exitCode = await main();
