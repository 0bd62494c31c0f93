import { clientError } from "./errors.js";
import { isObject, type Json, optionalString, requireString } from "./validation.js";

/**
 * AWS Batch consumable resources (resource-aware scheduling), as the emulator's run mode applies them:
 * - CreateConsumableResource: a name unique in the account (letters, numbers, hyphens, underscores; up
 *   to 256), `totalQuantity` at least 1, `resourceType` REPLENISHABLE (default) or NON_REPLENISHABLE;
 *   at most 50,000 per account ("The maximum number of consumable resources per account is 50k",
 *   batch/latest/userguide/resource-aware-scheduling-how-to-create.html).
 * - SubmitJob's `consumableResourcePropertiesOverride.consumableResourceList` names existing resources
 *   with a quantity; the job stays RUNNABLE until each has that much available. The quantity is taken
 *   when an attempt starts (STARTING) and, for a REPLENISHABLE resource, given back when it ends
 *   (batch/latest/userguide/resource-aware-scheduling-how-to-check-resources-check-resources.html).
 * - DeleteConsumableResource takes the name or ARN; DescribeConsumableResource shows total, in use and
 *   available.
 */
export interface ResourceRequirement {
  consumableResource: string;
  quantity: number;
}

interface Resource {
  name: string;
  arn: string;
  resourceType: "REPLENISHABLE" | "NON_REPLENISHABLE";
  totalQuantity: number;
  inUse: number;
  createdAt: number;
}

const NAME = /^[A-Za-z0-9_-]{1,256}$/;
export const MAX_CONSUMABLE_RESOURCES = 50_000;

export class ConsumableResources {
  private readonly byName = new Map<string, Resource>();

  constructor(private readonly arnPrefix: string) {}

  private lookup(ref: string): Resource | undefined {
    const name = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
    return this.byName.get(name);
  }

  create(input: Json) {
    const name = requireString(input, "consumableResourceName");
    if (!NAME.test(name))
      throw clientError(
        `consumableResourceName ${name} is invalid: up to 256 letters, numbers, hyphens and underscores`,
      );
    if (this.byName.has(name)) throw clientError(`Consumable resource ${name} already exists`);
    if (this.byName.size >= MAX_CONSUMABLE_RESOURCES)
      throw clientError(`at most ${MAX_CONSUMABLE_RESOURCES} consumable resources per account`);
    const total = input.totalQuantity;
    if (typeof total !== "number" || !Number.isInteger(total) || total < 1)
      throw clientError("totalQuantity must be an integer of at least 1");
    const type = optionalString(input, "resourceType") ?? "REPLENISHABLE";
    if (type !== "REPLENISHABLE" && type !== "NON_REPLENISHABLE")
      throw clientError("resourceType must be REPLENISHABLE or NON_REPLENISHABLE");
    const resource: Resource = {
      name,
      arn: `${this.arnPrefix}${name}`,
      resourceType: type,
      totalQuantity: total,
      inUse: 0,
      createdAt: Date.now(),
    };
    this.byName.set(name, resource);
    return { consumableResourceName: name, consumableResourceArn: resource.arn };
  }

  delete(input: Json) {
    const ref = requireString(input, "consumableResource");
    const resource = this.lookup(ref);
    if (!resource) throw clientError(`Consumable resource ${ref} does not exist`);
    this.byName.delete(resource.name);
    return {};
  }

  describe(input: Json) {
    const ref = requireString(input, "consumableResource");
    const resource = this.lookup(ref);
    if (!resource) throw clientError(`Consumable resource ${ref} does not exist`);
    return {
      consumableResourceName: resource.name,
      consumableResourceArn: resource.arn,
      resourceType: resource.resourceType,
      totalQuantity: resource.totalQuantity,
      inUseQuantity: resource.inUse,
      availableQuantity: resource.totalQuantity - resource.inUse,
      createdAt: resource.createdAt,
    };
  }

  /** The requirements of a SubmitJob request, checked as AWS does (existing resources, quantity ≥ 1). */
  requirementsOf(input: Json): ResourceRequirement[] | undefined {
    const properties = input.consumableResourcePropertiesOverride;
    if (properties === undefined || properties === null) return undefined;
    if (!isObject(properties) || !Array.isArray(properties.consumableResourceList))
      throw clientError("consumableResourcePropertiesOverride.consumableResourceList must be a list");
    const list = properties.consumableResourceList.map((item) => {
      if (!isObject(item)) throw clientError("consumableResourceList items must be objects");
      const ref = requireString(item, "consumableResource");
      const resource = this.lookup(ref);
      if (!resource) throw clientError(`Consumable resource ${ref} does not exist`);
      const quantity = item.quantity;
      if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 1)
        throw clientError("consumableResourceList quantity must be an integer of at least 1");
      if (quantity > resource.totalQuantity)
        throw clientError(
          `Consumable resource ${resource.name} has a total quantity of ${resource.totalQuantity}; a job cannot need ${quantity}`,
        );
      return { consumableResource: resource.name, quantity };
    });
    return list.length ? list : undefined;
  }

  /** Whether every resource a job needs has that much available (a deleted resource never has). */
  available(needs: readonly ResourceRequirement[] | undefined): boolean {
    for (const need of needs ?? []) {
      const resource = this.byName.get(need.consumableResource);
      if (!resource || resource.totalQuantity - resource.inUse < need.quantity) return false;
    }
    return true;
  }

  acquire(needs: readonly ResourceRequirement[] | undefined) {
    for (const need of needs ?? []) {
      const resource = this.byName.get(need.consumableResource);
      if (resource) resource.inUse += need.quantity;
    }
  }

  release(needs: readonly ResourceRequirement[] | undefined) {
    for (const need of needs ?? []) {
      const resource = this.byName.get(need.consumableResource);
      if (!resource) continue;
      if (resource.resourceType === "REPLENISHABLE")
        resource.inUse = Math.max(0, resource.inUse - need.quantity);
      else {
        resource.inUse = Math.max(0, resource.inUse - need.quantity);
        resource.totalQuantity = Math.max(0, resource.totalQuantity - need.quantity);
      }
    }
  }
}
