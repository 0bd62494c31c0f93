import * as batch from "aws-cdk-lib/aws-batch";
import { Construct } from "constructs";
import { resourceNames } from "../../lib/config/runtime.js";
import type { ProjectConfig } from "../../lib/config/schema.js";

export interface ProjectLimitsProps {
  /** The deployment's name (metadata.name): part of each resource's account-unique name. */
  readonly app: string;
  /** The configured projects; those with `maxRunningJobs` get a resource. */
  readonly projects: readonly Pick<ProjectConfig, "name" | "maxRunningJobs">[];
}

/**
 * Per-project caps on running jobs (`projects[].maxRunningJobs`): one AWS Batch consumable resource per
 * capped project (REPLENISHABLE, total quantity = the cap), named with resourceNames.projectLimit, which
 * is the name the functions put on every SubmitJob of the project's jobs with quantity 1
 * (lib/batch/submit-input.ts). AWS Batch then starts a job only while its project has a unit free, takes
 * it when the job starts and gives it back when it ends
 * (batch/latest/userguide/resource-aware-scheduling-how-to-for-jobs.html).
 */
export class ProjectLimits extends Construct {
  /** The resources by project name. */
  public readonly resources: ReadonlyMap<string, batch.ConsumableResource>;
  /** Their ARNs: SubmitJob needs permission on every consumable resource a job names. */
  public readonly resourceArns: string[];

  constructor(scope: Construct, id: string, props: ProjectLimitsProps) {
    super(scope, id);
    const resources = new Map<string, batch.ConsumableResource>();
    for (const project of props.projects) {
      if (project.maxRunningJobs === undefined) continue;
      resources.set(
        project.name,
        new batch.ConsumableResource(this, `Project-${project.name}`, {
          consumableResourceName: resourceNames.projectLimit(props.app, project.name),
          resourceType: batch.ConsumableResourceType.REPLENISHABLE,
          totalQuantity: project.maxRunningJobs,
        }),
      );
    }
    this.resources = resources;
    this.resourceArns = [...resources.values()].map((resource) => resource.consumableResourceArn);
  }
}
