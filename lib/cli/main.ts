import { Command, CommanderError, Option } from "commander";
import { ApiError } from "./client.js";
import { controlCommands } from "./commands/control.js";
import { inspectCommands } from "./commands/inspect.js";
import { submitCommand } from "./commands/submit.js";
import { watchCommand } from "./commands/watching.js";
import { createContext, DEFAULT_URL, EXIT, type Io } from "./context.js";
import { InputError } from "./input.js";

export { EXIT, type Io } from "./context.js";

/** The `job-scheduler` program: global options, then one module per group of commands. */
function program(io: Io, setExit: (code: number) => void): Command {
  const root = new Command("job-scheduler")
    .description(
      "Submit, watch and control jobs and batches of the job scheduler API (Radix job-scheduler compatible).",
    )
    .addOption(
      new Option("--url <url>", "base URL of the component's API (…/api/v1 is added when missing)")
        .env("JOB_SCHEDULER_URL")
        .default(DEFAULT_URL),
    )
    .addOption(
      new Option("--token <token>", "bearer token (local stack auth.localTokens)").env("JOB_SCHEDULER_TOKEN"),
    )
    .option("--iam", "sign requests with SigV4 (execute-api) using the standard AWS credential chain")
    .option("--region <region>", "region for --iam (default: from the URL's host, else AWS_REGION)")
    .option("--profile <profile>", "AWS profile for --iam (default: AWS_PROFILE or the chain's default)")
    .option("--api-id <id>", "API id, sent as x-apigw-api-id (when --url is a VPC endpoint's DNS name)")
    .option("--json", "print JSON (the API's objects) instead of text")
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .exitOverride()
    .showHelpAfterError();
  const context = createContext(io, setExit);
  submitCommand(root, context);
  inspectCommands(root, context);
  controlCommands(root, context);
  watchCommand(root, context);
  return root;
}

/**
 * Runs one command line (without node and the script) and resolves to its exit code: 0 done (with
 * --wait/watch: all Succeeded), 1 some job ended otherwise, 2 could not be done, 3 --timeout passed.
 *
 * @example
 *   process.exitCode = await run(["submit", "batch.yaml", "--wait"], { stdout, stderr, env, stdin });
 */
export async function run(argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  const root = program(io, (code) => {
    exitCode = code;
  });
  try {
    await root.parseAsync(argv, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    const message = error instanceof ApiError || error instanceof InputError ? error.message : String(error);
    io.stderr.write(`job-scheduler: ${message}\n`);
    return EXIT.error;
  }
}
