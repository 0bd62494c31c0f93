import { createHash } from "node:crypto";
import { type EffectiveSpec, specKey } from "./effective-spec.js";

/**
 * The identity of a piece of work for reuse (Arvados find_or_create): the component, the kind, and per
 * job its effective spec and a SHA-256 of its payload. Labels (jobId, batchId) and the scheduling
 * priority do not change what runs, so they are left out.
 */
export function reuseDigest(
  component: string,
  batchType: string,
  specs: readonly EffectiveSpec[],
  payloads: readonly (string | undefined)[],
): string {
  const hash = createHash("sha256").update(`${component}\n${batchType}\n${specs.length}\n`);
  const keys = new Map<EffectiveSpec, string>();
  specs.forEach((spec, position) => {
    let key = keys.get(spec);
    if (key === undefined) {
      const { priority: _priority, ...work } = spec;
      key = specKey(work as EffectiveSpec);
      keys.set(spec, key);
    }
    const payload = payloads[position];
    const payloadHash =
      payload === undefined ? "-" : createHash("sha256").update(payload, "utf8").digest("base64url");
    hash.update(`${key}\n${payloadHash}\n`);
  });
  return hash.digest("base64url");
}
