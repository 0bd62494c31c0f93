import type { Command } from "commander";
import { type Context, EXIT, integerOption } from "../context.js";
import { countsText } from "../render.js";
import { type Progress, watch } from "../watch.js";

/** Prints where a watched batch or job ended up and returns the exit code for it. */
export function finish(context: Context, progress: Progress, command: Command): number {
  if (context.globals(command).json) {
    const { raw: _raw, ...summary } = progress;
    context.json(summary);
  } else {
    context.out(
      `${progress.name} ${progress.status}: ${progress.ended}/${progress.total} ended (${countsText(progress.counts)})`,
    );
  }
  if (!progress.done) return EXIT.timeout;
  return progress.succeeded ? EXIT.ok : EXIT.unsuccessful;
}

/** Watches on standard error (the bar), quiet with --json. */
export function watchFor(
  context: Context,
  command: Command,
  name: string,
  options: { interval: number; timeout?: number },
) {
  return watch(context.client(command), name, {
    intervalMs: options.interval,
    ...(options.timeout === undefined ? {} : { timeoutMs: options.timeout * 1000 }),
    out: context.io.stderr,
    quiet: context.globals(command).json,
  });
}

export function watchCommand(root: Command, context: Context) {
  root
    .command("watch")
    .description("live progress of a batch or job: counts by status, rate and ETA; exit 0 if all succeeded")
    .argument("<name>", "batch or job name")
    .option("--interval <ms>", "poll interval", integerOption("--interval"), 2000)
    .option("--timeout <seconds>", "give up after this long (exit 3)", integerOption("--timeout"))
    .action(async (name: string, options: { interval: number; timeout?: number }, command: Command) => {
      if (!context.globals(command).json) context.io.stderr.write(`watching ${name}\n`);
      const progress = await watchFor(context, command, name, options);
      context.setExit(finish(context, progress, command));
    });
}
