import { type Command, Option } from "commander";
import { isBatchName } from "../../domain/names.js";
import { type Context, integerOption } from "../context.js";
import { InputError } from "../input.js";
import { startConsoleProxy } from "../proxy.js";

/** stop, restart and the console proxy: commands that act (the API applies its access rules). */
export function controlCommands(root: Command, context: Context) {
  root
    .command("stop")
    .description("stop a job or a batch (or every single job or batch with --all)")
    .argument("[name]", "job or batch name")
    .addOption(
      new Option("--all <kind>", "stop every job or every batch that has not ended").choices([
        "jobs",
        "batches",
      ]),
    )
    .action(async (name: string | undefined, options: { all?: "jobs" | "batches" }, command: Command) => {
      const api = context.client(command);
      let body: unknown;
      if (options.all) body = (await api.request("POST", `/${options.all}/stop`)).body;
      else if (name) body = (await api.act(isBatchName(name) ? "batches" : "jobs", name, "stop")).raw;
      else throw new InputError("stop needs a name, or --all jobs|batches");
      if (context.globals(command).json) context.json(body);
      else context.out((body as { message?: string }).message ?? "stopped");
    });

  root
    .command("restart")
    .description("run an ended job again, or a batch's failed, stopped and past-deadline jobs")
    .argument("<name>", "job or batch name")
    .option("--all", "batch: rerun every ended job, the Succeeded ones too")
    .action(async (name: string, options: { all?: boolean }, command: Command) => {
      const kind = isBatchName(name) ? "batches" : "jobs";
      const answer = await context
        .client(command)
        .act(kind, name, "restart", options.all ? { all: "true" } : {});
      if (context.globals(command).json) context.json(answer.raw);
      else context.out(`restarted ${name}: ${(answer.value as { status: string }).status}`);
    });

  root
    .command("console")
    .description(
      "serve the web console on 127.0.0.1 through a proxy that signs (--iam) or adds the token to every request",
    )
    .option("--port <n>", "local port", integerOption("--port"), 8001)
    .action(async (options: { port: number }, command: Command) => {
      const { server, url } = await startConsoleProxy(context.client(command), options.port);
      context.out(`console: ${url}  (Ctrl-C stops)`);
      await (context.io.interrupted ?? new Promise(() => {}));
      await new Promise((resolve) => server.close(resolve));
    });
}
