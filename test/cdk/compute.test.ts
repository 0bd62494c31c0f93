import { App, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import { beforeAll, describe, expect, it } from "vitest";
import { fairShares, GpuBatchCompute } from "../../cdk/constructs/gpu-batch-compute.js";
import { parseConfig } from "../../lib/config/load.js";
import { flat, ofType, type Resources } from "./helpers.js";

/**
 * The compute construct alone (no functions to bundle): an amd64 CPU compute with on-demand and Spot
 * capacity, a Graviton one, GPU families with both capacities and arm64, and weighted projects.
 */
const config = parseConfig({
  metadata: { name: "multi" },
  spec: {
    jobs: [
      { name: "train", schedulerPort: 1 },
      { name: "etl", schedulerPort: 2 },
    ],
  },
  aws: {
    cpu: [
      { instanceTypes: ["c7i", "m7i"], capacity: "both", maxvCpus: 64 },
      { instanceTypes: ["c7g.large", "c7g.xlarge"], maxvCpus: 32 },
    ],
    gpuFamilies: [
      {
        family: "g5",
        gpuTypes: ["nvidia-a10g"],
        instanceTypes: ["g5.xlarge"],
        maxGpusPerInstance: 1,
        capacity: "both",
      },
      { family: "g5g", gpuTypes: ["nvidia-t4g"], instanceTypes: ["g5g.xlarge"], maxGpusPerInstance: 1 },
    ],
  },
  projects: [{ name: "team-a", weight: 3 }, { name: "team-b" }, { name: "team-c", weight: 1.5 }],
});

let stack: Stack;
let template: Template;
let resources: Resources;

beforeAll(() => {
  stack = new Stack(new App(), "Compute", { env: { region: "eu-west-1" } });
  const vpc = new ec2.Vpc(stack, "Vpc", { maxAzs: 2, natGateways: 0 });
  new GpuBatchCompute(stack, "Compute", {
    app: "multi",
    vpc,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    securityGroup: new ec2.SecurityGroup(stack, "Hosts", { vpc }),
    aws: config.aws,
    shareIdentifiers: config.spec.jobs.map((job) => job.name),
    projects: config.projects,
  });
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

/** The compute environment a queue (by name) runs on. */
function environmentOf(queueName: string) {
  const [, queue] = ofType(resources, "AWS::Batch::JobQueue").find(
    ([, resource]) => resource.Properties.JobQueueName === queueName,
  )!;
  const order = queue.Properties.ComputeEnvironmentOrder as { ComputeEnvironment: Record<string, unknown> }[];
  expect(order).toHaveLength(1);
  const id = flat(order[0]!.ComputeEnvironment).replace(/^<([^.>]+).*>$/, "$1");
  return resources[id]!.Properties.ComputeResources as Record<string, unknown>;
}

describe("compute environments and queues", () => {
  it("one environment and queue per capacity of each compute", () => {
    const names = ofType(resources, "AWS::Batch::JobQueue").map(([, queue]) => queue.Properties.JobQueueName);
    expect(names.sort()).toEqual(
      ["multi-cpu", "multi-cpu-spot", "multi-cpu-arm64", "multi-g5", "multi-g5-spot", "multi-g5g"].sort(),
    );
    template.resourceCountIs("AWS::Batch::ComputeEnvironment", 6);
  });

  it("a Spot environment is SPOT with SPOT_PRICE_CAPACITY_OPTIMIZED; its on-demand twin EC2 with BEST_FIT_PROGRESSIVE", () => {
    expect(environmentOf("multi-cpu-spot")).toMatchObject({
      Type: "SPOT",
      AllocationStrategy: "SPOT_PRICE_CAPACITY_OPTIMIZED",
      InstanceTypes: ["c7i", "m7i"],
      MaxvCpus: 64,
      Ec2Configuration: [{ ImageType: "ECS_AL2023" }],
    });
    expect(environmentOf("multi-cpu")).toMatchObject({
      Type: "EC2",
      AllocationStrategy: "BEST_FIT_PROGRESSIVE",
      InstanceTypes: ["c7i", "m7i"],
    });
    expect(environmentOf("multi-g5-spot")).toMatchObject({
      Type: "SPOT",
      AllocationStrategy: "SPOT_PRICE_CAPACITY_OPTIMIZED",
      InstanceTypes: ["g5.xlarge"],
      Ec2Configuration: [{ ImageType: "ECS_AL2023_NVIDIA" }],
    });
    expect(environmentOf("multi-g5")).toMatchObject({ Type: "EC2", InstanceTypes: ["g5.xlarge"] });
  });

  it("the arm64 CPU environment launches exactly the Graviton types on the ECS AL2023 AMI", () => {
    expect(environmentOf("multi-cpu-arm64")).toMatchObject({
      Type: "EC2",
      InstanceTypes: ["c7g.large", "c7g.xlarge"],
      MaxvCpus: 32,
      MinvCpus: 0,
      Ec2Configuration: [{ ImageType: "ECS_AL2023" }],
    });
  });

  it("warns that an arm64 GPU family is outside what AWS Batch documents for GPU jobs", () => {
    Annotations.fromStack(stack).hasWarning("*", Match.stringLikeRegexp("GPU family g5g is arm64"));
  });
});

describe("fair share", () => {
  it("every queue, Spot ones included, schedules by the one policy", () => {
    const policies = ofType(resources, "AWS::Batch::SchedulingPolicy");
    expect(policies).toHaveLength(1);
    const queues = ofType(resources, "AWS::Batch::JobQueue");
    expect(queues).toHaveLength(6);
    for (const [, queue] of queues) {
      expect(flat(queue.Properties.SchedulingPolicyArn)).toBe(`<${policies[0]![0]}.Arn>`);
    }
  });

  it("shares are the components (weight 1) and the projects, weightFactor = largest weight / weight", () => {
    template.hasResourceProperties("AWS::Batch::SchedulingPolicy", {
      FairsharePolicy: Match.objectLike({
        ShareDistribution: [
          { ShareIdentifier: "train", WeightFactor: 3 },
          { ShareIdentifier: "etl", WeightFactor: 3 },
          { ShareIdentifier: "team-a", WeightFactor: 1 },
          { ShareIdentifier: "team-b", WeightFactor: 3 },
          { ShareIdentifier: "team-c", WeightFactor: 2 },
        ],
      }),
    });
  });

  it("weight factors are rounded to AWS's 4 decimals and stay within 0.0001..999.9999", () => {
    expect(fairShares(["a"], [{ name: "p", weight: 7 }])).toEqual([
      { shareIdentifier: "a", weightFactor: 7 },
      { shareIdentifier: "p", weightFactor: 1 },
    ]);
    expect(
      fairShares(
        [],
        [
          { name: "p", weight: 3 },
          { name: "q", weight: 7 },
        ],
      ).map((share) => share.weightFactor),
    ).toEqual([2.3333, 1]);
    expect(fairShares(["a"], [{ name: "p", weight: 5000 }])[0]!.weightFactor).toBe(999.9999);
    // Without projects every component weighs the same, as before.
    expect(fairShares(["a", "b"], [])).toEqual([
      { shareIdentifier: "a", weightFactor: 1 },
      { shareIdentifier: "b", weightFactor: 1 },
    ]);
  });
});
