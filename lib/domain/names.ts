import { createHash, randomInt } from "node:crypto";

/**
 * Names as Radix makes them (DESIGN.md "Names"): a batch is `batch-<job>-<UTC yyyymmddhhmmss>-<8 chars>`,
 * a job of it `<batchName>-<8 chars>`, all lowercase alphanumerics. A single job is a batch of one.
 *
 * A job's suffix is not stored anywhere: it is a keyed permutation of the job's ordinal in its batch
 * (an affine map on the 36^8 possible suffixes, keyed by the batch name), so a job name leads to its
 * batch and its ordinal with no lookup, and a 100,000-job batch needs no name list.
 */
const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const SUFFIX_LENGTH = 8;
const MODULUS = 36n ** 8n;

const BATCH_NAME = /^batch-([a-z0-9](?:[-a-z0-9]*[a-z0-9])?)-(\d{14})-([a-z0-9]{8})$/;
const JOB_SUFFIX = /^[a-z0-9]{8}$/;

export function randomSuffix(length = SUFFIX_LENGTH): string {
  let text = "";
  for (let i = 0; i < length; i++) text += ALPHABET[randomInt(ALPHABET.length)];
  return text;
}

const timestamp = (date: Date): string => date.toISOString().replace(/[-:T]/g, "").slice(0, 14);

export function newBatchName(component: string, now: Date, suffix = randomSuffix()): string {
  return `batch-${component}-${timestamp(now)}-${suffix}`;
}

export const isBatchName = (name: string): boolean => BATCH_NAME.test(name);

/** The component a batch name was made for, or undefined when the name is not a batch name. */
export function componentOfBatch(batchName: string): string | undefined {
  return BATCH_NAME.exec(batchName)?.[1];
}

function toBase36(value: bigint): string {
  let text = "";
  let rest = value;
  for (let i = 0; i < SUFFIX_LENGTH; i++) {
    text = ALPHABET[Number(rest % 36n)] + text;
    rest /= 36n;
  }
  return text;
}

function fromBase36(text: string): bigint {
  let value = 0n;
  for (const char of text) value = value * 36n + BigInt(ALPHABET.indexOf(char));
  return value;
}

function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [a % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return ((oldS % m) + m) % m;
}

interface Key {
  a: bigint;
  aInverse: bigint;
  b: bigint;
}

const keys = new Map<string, Key>();

function keyFor(batchName: string): Key {
  const cached = keys.get(batchName);
  if (cached) return cached;
  const digest = createHash("sha256").update(batchName).digest();
  let a = digest.readBigUInt64BE(0) % MODULUS;
  // 36^8 = 2^16 * 3^16: the multiplier must be divisible by neither 2 nor 3 to be invertible.
  while (a % 2n === 0n || a % 3n === 0n) a += 1n;
  const key = { a, aInverse: modInverse(a, MODULUS), b: digest.readBigUInt64BE(8) % MODULUS };
  if (keys.size > 10_000) keys.clear();
  keys.set(batchName, key);
  return key;
}

/** The name of the job with that ordinal in the batch. */
export function jobName(batchName: string, ordinal: number): string {
  const { a, b } = keyFor(batchName);
  return `${batchName}-${toBase36((a * BigInt(ordinal) + b) % MODULUS)}`;
}

/** Batch name and ordinal of a job name, or undefined when the name cannot be one of ours. */
export function parseJobName(name: string): { batchName: string; ordinal: number } | undefined {
  const batchName = name.slice(0, -(SUFFIX_LENGTH + 1));
  const suffix = name.slice(-SUFFIX_LENGTH);
  if (name[name.length - SUFFIX_LENGTH - 1] !== "-" || !isBatchName(batchName) || !JOB_SUFFIX.test(suffix)) {
    return undefined;
  }
  const { aInverse, b } = keyFor(batchName);
  const ordinal = (aInverse * ((fromBase36(suffix) - b + MODULUS) % MODULUS)) % MODULUS;
  return ordinal > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : { batchName, ordinal: Number(ordinal) };
}

/**
 * Resolves the job part of `/batches/{batch}/jobs/{job}`: the full job name or its 8-character suffix
 * (Radix's code accepts only the suffix; DESIGN.md takes both).
 */
export function resolveJobInBatch(
  batchName: string,
  job: string,
): { batchName: string; ordinal: number } | undefined {
  const full = JOB_SUFFIX.test(job) ? `${batchName}-${job}` : job;
  const parsed = parseJobName(full);
  return parsed && parsed.batchName === batchName ? parsed : undefined;
}
