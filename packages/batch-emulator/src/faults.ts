import type { Stats } from "./stats.js";

/**
 * Fault injection, to test a client against what AWS Batch and EventBridge really do. Every
 * probability is 0..1 and defaults to 0 (off). Decisions come from a seeded PRNG (one stream per
 * fault), so a run with the same seed and the same sequence of calls and events injects the same faults.
 */
export interface FaultOptions {
  /** A delivered event is delivered once more (same event `id`), 0..`maxDelayMs` after the first delivery. */
  duplicateEvents?: number;
  /**
   * An event is held back and delivered right after the next event of the same job (if none follows
   * within `maxDelayMs`, it is delivered then, just late).
   */
  reorderEvents?: number;
  /** An event never reaches onEvent; events.ndjson still gets it, marked `"dropped": true`. */
  dropEvents?: number;
  /** An event is delivered 0..`maxDelayMs` after it was emitted; the job's later events wait behind it. */
  delayEvents?: number;
  /** SubmitJob answers HTTP 429 TooManyRequestsException and creates no job. */
  throttleSubmitJob?: number;
  /** Any API call answers HTTP 500 ServerException and changes nothing. */
  serverErrors?: number;
  /** SubmitJob creates the job (it runs) but answers HTTP 500 ServerException. */
  submitAppliedThenError?: number;
  /** Upper bound of every injected delay (default 2000). */
  maxDelayMs?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

/** The environment variable read when `BatchEmulatorOptions.faults` is absent: the same JSON. */
export const FAULTS_ENV = "BATCH_EMULATOR_FAULTS";

export const FAULT_NAMES = [
  "duplicateEvents",
  "reorderEvents",
  "dropEvents",
  "delayEvents",
  "throttleSubmitJob",
  "serverErrors",
  "submitAppliedThenError",
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

const DEFAULT_MAX_DELAY_MS = 2000;
const DEFAULT_SEED = 1;

/** Checks fault options (from code or from JSON) and fills in the defaults; throws on anything odd. */
export function normalizeFaults(input: unknown, source: string): Required<FaultOptions> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error(`${source}: fault options must be a JSON object`);
  const known = new Set<string>([...FAULT_NAMES, "maxDelayMs", "seed"]);
  const record = input as Record<string, unknown>;
  for (const key of Object.keys(record))
    if (!known.has(key)) throw new Error(`${source}: unknown fault option "${key}"`);
  const number = (key: string, fallback: number, check: (value: number) => boolean, what: string) => {
    const value = record[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== "number" || !Number.isFinite(value) || !check(value))
      throw new Error(`${source}: ${key} must be ${what} (got ${JSON.stringify(value)})`);
    return value;
  };
  const result = {
    maxDelayMs: number("maxDelayMs", DEFAULT_MAX_DELAY_MS, (v) => v >= 0, "a number of milliseconds >= 0"),
    seed: number("seed", DEFAULT_SEED, Number.isInteger, "an integer"),
  } as Required<FaultOptions>;
  for (const name of FAULT_NAMES) result[name] = number(name, 0, (v) => v >= 0 && v <= 1, "between 0 and 1");
  return result;
}

/** Fault options from `BATCH_EMULATOR_FAULTS` (undefined when unset or empty). */
export function faultsFromEnv(env: NodeJS.ProcessEnv = process.env): FaultOptions | undefined {
  const text = env[FAULTS_ENV]?.trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as FaultOptions;
  } catch (error) {
    throw new Error(`${FAULTS_ENV} is not valid JSON: ${(error as Error).message}`);
  }
}

/** 32-bit FNV-1a: turns the seed and a stream name into a PRNG state. */
function hash(text: string) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough for test decisions; values in [0, 1). */
function prng(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The fault decisions of one emulator. Each fault draws from its own seeded stream, so e.g. API calls
 * do not shift the event faults' decisions. Injected faults are counted as `fault.<name>` in stats.
 */
export class Faults {
  readonly options: Required<FaultOptions>;
  /** Any probability above 0. */
  readonly active: boolean;
  /** Event faults above 0: EventDelivery takes its fault path only then. */
  readonly eventFaults: boolean;
  private readonly streams = new Map<string, () => number>();

  constructor(
    options: FaultOptions | undefined,
    private readonly stats: Stats,
    source = "faults",
  ) {
    this.options = normalizeFaults(options ?? {}, source);
    this.active = FAULT_NAMES.some((name) => this.options[name] > 0);
    this.eventFaults = (["duplicateEvents", "reorderEvents", "dropEvents", "delayEvents"] as const).some(
      (name) => this.options[name] > 0,
    );
  }

  /** `options.faults`, else `BATCH_EMULATOR_FAULTS`, else none. */
  static configure(options: FaultOptions | undefined, stats: Stats, env: NodeJS.ProcessEnv = process.env) {
    if (options) return new Faults(options, stats, "faults");
    return new Faults(faultsFromEnv(env), stats, FAULTS_ENV);
  }

  /** True with the fault's probability; not counted (see {@link count}). */
  chance(name: FaultName): boolean {
    const p = this.options[name];
    if (p <= 0) return false;
    const draw = this.stream(name)();
    return p >= 1 || draw < p;
  }

  /** {@link chance}, counted as `fault.<name>` when it hits. */
  roll(name: FaultName): boolean {
    if (!this.chance(name)) return false;
    this.count(name);
    return true;
  }

  count(name: FaultName) {
    this.stats.inc(`fault.${name}`);
  }

  /** A delay in 0..maxDelayMs for the given fault. */
  delayMs(name: FaultName): number {
    const max = this.options.maxDelayMs;
    return Math.min(max, Math.floor(this.stream(`${name}.delay`)() * (max + 1)));
  }

  private stream(name: string) {
    let stream = this.streams.get(name);
    if (!stream) {
      stream = prng(hash(`${this.options.seed}:${name}`));
      this.streams.set(name, stream);
    }
    return stream;
  }
}
