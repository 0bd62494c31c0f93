import { type EffectiveSpec, specKey } from "./effective-spec.js";

/** AWS Batch array size limits: 2 to 10,000 children (a group of one is submitted as a plain job). */
export const MAX_ARRAY_SIZE = 10_000;

/** One AWS Batch submission: a plain job (size 1) or an array job (2..10,000 children). */
export interface JobGroup {
  index: number;
  /** Ordinal of the group's first job; child `i` of the array is the job with ordinal `offset + i`. */
  offset: number;
  size: number;
  spec: EffectiveSpec;
  /** Positions in the request (jobScheduleDescriptions) of the group's jobs, in child order. */
  members: number[];
}

/**
 * Groups jobs with equal effective specs, in order of first appearance, and splits a group over
 * 10,000 into near-equal parts. Ordinals are assigned group after group, so a job's ordinal is its
 * group's offset plus its array index, and a batch's payloads and states are laid out in that order.
 */
export function groupJobs(specs: readonly EffectiveSpec[], firstPart = specs.length): JobGroup[] {
  if (firstPart <= 0 || firstPart >= specs.length) return groupPart(specs, 0, 0);
  // A canary: its jobs (the first `firstPart`) get groups of their own, so they can be submitted first.
  const first = groupPart(specs.slice(0, firstPart), 0, 0);
  return [...first, ...groupPart(specs.slice(firstPart), firstPart, first.length)];
}

/** Groups of the specs from request position `from` on, their indices and ordinals from the given ones. */
function groupPart(specs: readonly EffectiveSpec[], from: number, firstIndex: number): JobGroup[] {
  const byKey = new Map<string, { spec: EffectiveSpec; members: number[] }>();
  // Callers reuse one spec object for identical descriptions; its key is computed once.
  const keys = new WeakMap<EffectiveSpec, string>();
  specs.forEach((spec, position) => {
    let key = keys.get(spec);
    if (key === undefined) {
      key = specKey(spec);
      keys.set(spec, key);
    }
    const entry = byKey.get(key);
    if (entry) entry.members.push(from + position);
    else byKey.set(key, { spec, members: [from + position] });
  });
  const groups: JobGroup[] = [];
  let offset = from;
  for (const { spec, members } of byKey.values()) {
    const parts = Math.ceil(members.length / MAX_ARRAY_SIZE);
    const partSize = Math.ceil(members.length / parts);
    for (let start = 0; start < members.length; start += partSize) {
      const part = members.slice(start, start + partSize);
      groups.push({ index: firstIndex + groups.length, offset, size: part.length, spec, members: part });
      offset += part.length;
    }
  }
  return groups;
}
