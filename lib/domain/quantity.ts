/**
 * Kubernetes resource quantities as Radix accepts them in `resources` (`32Mi`, `1Gi`, `300m`, `2`, `1e3`).
 * Grammar: https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
const QUANTITY = /^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/;

const MULTIPLIERS: Record<string, number> = {
  "": 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The quantity's value in base units (cores for cpu, bytes for memory), or undefined when malformed. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (!match) return undefined;
  const [, digits, suffix = ""] = match;
  const number = Number(digits);
  const multiplier =
    suffix.startsWith("e") || suffix.startsWith("E") ? 10 ** Number(suffix.slice(1)) : MULTIPLIERS[suffix];
  if (multiplier === undefined || !Number.isFinite(number)) return undefined;
  return number * multiplier;
}

/** True when `text` is a well-formed quantity. */
export const isQuantity = (text: string): boolean => parseQuantity(text) !== undefined;

/** Memory in MiB, rounded up (AWS Batch MEMORY requirement unit). */
export const toMebibytes = (bytes: number): number => Math.ceil(bytes / 2 ** 20);

/** vCPUs for AWS Batch on EC2: whole vCPUs, at least 1 (fractional vCPUs are Fargate-only). */
export const toBatchVcpus = (cores: number): number => Math.max(1, Math.ceil(cores - 1e-9));
