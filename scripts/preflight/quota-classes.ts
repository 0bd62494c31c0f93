import { type ComputeQueue, computeQueues } from "../../lib/config/runtime.js";
import type { AwsConfig } from "../../lib/config/schema.js";

/**
 * EC2's vCPU-based instance quotas the stack's compute environments draw on (Service Quotas, service
 * `ec2`; https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html). A new account
 * often has 0 vCPUs of G and P instances: Batch then never starts a GPU host and jobs wait RUNNABLE.
 */
export const QUOTA_CLASSES = {
  gvt: {
    label: "G and VT instances",
    onDemand: { code: "L-DB2E81BA", name: "Running On-Demand G and VT instances" },
    spot: { code: "L-3819A6DF", name: "All G and VT Spot Instance Requests" },
  },
  p: {
    label: "P instances",
    onDemand: { code: "L-417A185B", name: "Running On-Demand P instances" },
    spot: { code: "L-7212CCBC", name: "All P Spot Instance Requests" },
  },
  standard: {
    label: "Standard (A, C, D, H, I, M, R, T, Z) instances",
    onDemand: {
      code: "L-1216C47A",
      name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    },
    spot: { code: "L-34B43A08", name: "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" },
  },
} as const;

export type QuotaClass = keyof typeof QUOTA_CLASSES;

/**
 * The quota class of an `instanceTypes` entry (`g5.xlarge`, `g5`, `optimal`), or undefined for families
 * with a quota of their own that this check does not cover (Inf, Trn, DL, F, X, high memory, HPC).
 */
export function quotaClassOf(instanceType: string): QuotaClass | undefined {
  // Batch's keywords pick C, M and R families.
  if (["optimal", "default_x86_64", "default_arm64"].includes(instanceType)) return "standard";
  const family = instanceType.split(".")[0]!.toLowerCase();
  if (/^(inf|trn|dl|f\d|x\d|u-|hpc)/.test(family)) return undefined;
  if (/^(g|vt)\d/.test(family) || /^gr\d/.test(family)) return "gvt";
  if (/^p\d/.test(family)) return "p";
  if (/^[acdhimrtz]\d/.test(family) || /^i[ms]\d/.test(family)) return "standard";
  return undefined;
}

/** What one quota must allow for the stack's compute environments to reach their maxvCpus. */
export interface QuotaNeed {
  quotaClass: QuotaClass;
  capacity: "onDemand" | "spot";
  /** Sum of maxvCpus of the compute environments of this class and capacity. */
  vcpus: number;
  /** The queue keys that draw on it, e.g. `g5`, `cpu-spot`. */
  queues: string[];
  /** The configured instance types of those environments (sizes tell the smallest instance). */
  instanceTypes: string[];
}

/** Per quota, the vCPUs the configured compute environments can scale to (each counts its maxvCpus). */
export function quotaNeeds(aws: Pick<AwsConfig, "cpu" | "gpuFamilies">): {
  needs: QuotaNeed[];
  unchecked: { queue: string; instanceType: string }[];
} {
  const needs = new Map<string, QuotaNeed>();
  const unchecked: { queue: string; instanceType: string }[] = [];
  for (const queue of computeQueues(aws) as ComputeQueue[]) {
    const classes = new Set<QuotaClass>();
    for (const type of queue.instanceTypes) {
      const quotaClass = quotaClassOf(type);
      if (quotaClass) classes.add(quotaClass);
      else unchecked.push({ queue: queue.key, instanceType: type });
    }
    for (const quotaClass of classes) {
      const key = `${quotaClass}|${queue.capacity}`;
      const need = needs.get(key) ?? {
        quotaClass,
        capacity: queue.capacity,
        vcpus: 0,
        queues: [],
        instanceTypes: [],
      };
      need.vcpus += queue.maxvCpus;
      need.queues.push(queue.key);
      need.instanceTypes.push(...queue.instanceTypes.filter((type) => quotaClassOf(type) === quotaClass));
      needs.set(key, need);
    }
  }
  return { needs: [...needs.values()], unchecked };
}
