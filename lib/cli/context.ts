import type { Command } from "commander";
import { ApiClient } from "./client.js";
import { InputError } from "./input.js";
import { credentialChain, regionOfHost, sigV4Signer } from "./sign.js";
import type { Output } from "./watch.js";

/** Exit codes: scripts tell "it ran and failed" from "could not ask". */
export const EXIT = { ok: 0, unsuccessful: 1, error: 2, timeout: 3 } as const;

export interface Io {
  stdout: Output;
  stderr: Output;
  env: Record<string, string | undefined>;
  stdin: () => string;
  /** Resolves when the user interrupts (Ctrl-C): ends `console`. */
  interrupted?: Promise<void>;
}

/** The options every command takes (declared on the program). */
export interface GlobalOptions {
  url: string;
  token?: string;
  iam?: boolean;
  region?: string;
  profile?: string;
  apiId?: string;
  json?: boolean;
}

export const DEFAULT_URL = "http://127.0.0.1:8000";

/** What a command's action needs: output, its options, a client, and a way to set the exit code. */
export interface Context {
  io: Io;
  /** A line (or block) of text on standard output. */
  out(text: string): void;
  /** A value as JSON on standard output. */
  json(value: unknown): void;
  globals(command: Command): GlobalOptions;
  client(command: Command): ApiClient;
  setExit(code: number): void;
}

export function createContext(io: Io, setExit: (code: number) => void): Context {
  const out = (text: string) => {
    io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  };
  const globals = (command: Command) => command.optsWithGlobals() as GlobalOptions;
  return {
    io,
    out,
    json: (value) => out(JSON.stringify(value, null, 2)),
    globals,
    client: (command) => clientFor(globals(command), io.env),
    setExit,
  };
}

/** `1h`, `30m`, `2d`, `45s` before now, or an RFC 3339 time, as RFC 3339. */
export function timeArgument(text: string, now = Date.now()): string {
  const relative = /^(\d+)([smhd])$/.exec(text);
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400 }[relative[2] as "s" | "m" | "h" | "d"];
    return new Date(now - Number(relative[1]) * unit * 1000).toISOString();
  }
  if (Number.isNaN(Date.parse(text))) {
    throw new InputError(`'${text}' is neither a time (RFC 3339) nor an age like 2h`);
  }
  return new Date(text).toISOString();
}

export function clientFor(options: GlobalOptions, env: Io["env"]): ApiClient {
  const url = options.url;
  if (!/^https?:\/\//.test(url)) throw new InputError(`--url must be an http(s) URL, not '${url}'`);
  let signer: ReturnType<typeof sigV4Signer> | undefined;
  if (options.iam) {
    const region =
      options.region ?? regionOfHost(new URL(url).hostname) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region)
      throw new InputError("--iam needs a region: --region, AWS_REGION, or an execute-api host name");
    signer = sigV4Signer({ region, credentials: credentialChain(options.profile) });
  }
  return new ApiClient({
    url,
    ...(options.token ? { token: options.token } : {}),
    ...(signer ? { signer } : {}),
    ...(options.apiId ? { apiId: options.apiId } : {}),
  });
}

/** A commander argument parser for a whole number. */
export const integerOption = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InputError(`${name} must be a whole number, not '${value}'`);
  return Number(value);
};

/** A repeatable option's values. */
export const collect = (value: string, previous: string[] = []) => [...previous, value];
