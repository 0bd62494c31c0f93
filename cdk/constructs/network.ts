import { Stack, Validations } from "aws-cdk-lib";
import * as ec2 from "aws-cdk-lib/aws-ec2";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { AwsConfig } from "../../lib/config/schema.js";

export interface NetworkProps {
  /**
   * `aws.network` of the configuration. With `vpcId` the VPC is imported (then `subnetIds` is required:
   * synth makes no lookups, so subnets cannot be discovered); without it a VPC is created.
   * With `executeApiEndpointId` that execute-api interface endpoint is admitted; otherwise one is created:
   * with private DNS in a created VPC, without private DNS in an imported one (see
   * {@link Network.executeApiPrivateDns}).
   */
  readonly network: AwsConfig["network"];
  /**
   * Availability zones of a created VPC.
   * @default 2
   */
  readonly maxAzs?: number;
}

/**
 * Where the Batch hosts run and how callers reach the private API: the VPC and subnets (imported or
 * created) and the execute-api interface endpoint that the API's resource policy admits.
 *
 * A created VPC has public subnets (NAT only) and private subnets with egress: Batch hosts pull the
 * user's image and the payload-fetch image (public.ecr.aws) and talk to the ECS and Batch endpoints.
 * Free gateway endpoints keep S3 and DynamoDB traffic off the NAT gateway.
 */
export class Network extends Construct {
  public readonly vpc: ec2.IVpc;
  /** Subnets of the Batch compute environments (and of a created execute-api endpoint). */
  public readonly batchSubnets: ec2.SubnetSelection;
  /** The execute-api interface endpoint the API admits (created or imported). */
  public readonly executeApiEndpoint: ec2.IInterfaceVpcEndpoint;
  /**
   * Whether callers reach the API by its default name `https://{api-id}.execute-api.{region}.amazonaws.com`
   * through this endpoint's private DNS: `true` for the endpoint created in a created VPC, `false` for the
   * one created in an imported VPC, `undefined` for an imported endpoint (this stack cannot know). Without
   * private DNS callers use the endpoint-specific name `https://{api-id}-{vpce-id}.execute-api.{region}.amazonaws.com`,
   * which API Gateway serves for every API associated with the endpoint
   * (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-api-test-invoke-url.html).
   */
  public readonly executeApiPrivateDns: boolean | undefined;
  /** Security group of the Batch hosts: egress only, nothing may connect to them. */
  public readonly batchSecurityGroup: ec2.SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps) {
    super(scope, id);
    const { vpcId, subnetIds, executeApiEndpointId } = props.network;

    if (vpcId) {
      if (!subnetIds?.length) {
        throw new Error(
          "aws.network.subnetIds: required when aws.network.vpcId is set (synth makes no VPC lookups)",
        );
      }
      // No lookup: the AZs are only used by CDK for subnet grouping; the subnets are given explicitly.
      this.vpc = ec2.Vpc.fromVpcAttributes(this, "Vpc", {
        vpcId,
        availabilityZones: Stack.of(this).availabilityZones,
      });
      this.batchSubnets = {
        subnets: subnetIds.map((subnetId) => ec2.Subnet.fromSubnetId(this, `Subnet-${subnetId}`, subnetId)),
      };
    } else {
      const vpc = new ec2.Vpc(this, "Vpc", {
        maxAzs: props.maxAzs ?? 2,
        natGateways: 1,
        subnetConfiguration: [
          { name: "public", subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: "private", subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        ],
        gatewayEndpoints: {
          S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
          DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
        },
      });
      vpc.addFlowLog("FlowLog", {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, "FlowLogs", { retention: logs.RetentionDays.ONE_MONTH }),
        ),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      });
      this.vpc = vpc;
      this.batchSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    }

    this.batchSecurityGroup = new ec2.SecurityGroup(this, "BatchHosts", {
      vpc: this.vpc,
      description: "AWS Batch hosts of the job scheduler: no ingress",
      allowAllOutbound: true,
    });

    this.executeApiPrivateDns = executeApiEndpointId ? undefined : !vpcId;
    this.executeApiEndpoint = executeApiEndpointId
      ? ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(this, "ExecuteApi", {
          vpcEndpointId: executeApiEndpointId,
          port: 443,
        })
      : this.createExecuteApiEndpoint(subnetIds);
  }

  /**
   * An execute-api interface endpoint. In a VPC this stack creates, with private DNS, so callers use the
   * API's ordinary `https://{api-id}.execute-api.{region}.amazonaws.com/{stage}` URL.
   *
   * In an imported VPC, without private DNS. A VPC can hold only one execute-api endpoint with private DNS
   * (a second one fails with a conflicting DNS domain), and private DNS sends every
   * `*.execute-api.{region}.amazonaws.com` name resolved in the VPC to the endpoint, so public API Gateway
   * APIs called from that VPC stop answering (AWS: "When you enable private DNS, you can't access public
   * APIs from the VPC by their default endpoints",
   * https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-private-apis.html). Creating one
   * silently in somebody's VPC is never safe; callers use the endpoint-specific name instead (stack output
   * `ApiUrl-<component>`), and to use an endpoint that already has private DNS, name it in
   * `aws.network.executeApiEndpointId` (`npm run preflight` finds it).
   */
  private createExecuteApiEndpoint(importedSubnetIds: string[] | undefined): ec2.IInterfaceVpcEndpoint {
    if (!importedSubnetIds) {
      // `open: true` admits HTTPS from the VPC's CIDR.
      const endpoint = this.vpc.addInterfaceEndpoint("ExecuteApi", {
        service: ec2.InterfaceVpcEndpointAwsService.APIGATEWAY,
        privateDnsEnabled: true,
        subnets: this.batchSubnets,
        open: true,
      });
      Validations.of(endpoint).acknowledge({
        id: "AwsSolutions-EC23",
        reason:
          "The endpoint's only ingress is HTTPS from this VPC's own CIDR block (a GetAtt the rule cannot " +
          "evaluate offline, so it reports an error instead of passing).",
      });
      return endpoint;
    }
    // Imported subnets carry no availability zone (no lookups), which the L2 endpoint needs to pick one
    // subnet per zone; the L1 endpoint takes the subnet ids as they are.
    const securityGroup = new ec2.SecurityGroup(this, "ExecuteApiEndpointSecurityGroup", {
      vpc: this.vpc,
      description: "execute-api interface endpoint of the job scheduler private API",
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), "HTTPS from callers in the VPC");
    Validations.of(securityGroup).acknowledge({
      id: "AwsSolutions-EC23",
      reason:
        "An interface endpoint has only private addresses, so only hosts routed into this VPC reach it, and the " +
        "API's resource policy admits only this endpoint. The imported VPC's CIDR is unknown offline (synth " +
        "makes no lookups), so the rule cannot name it.",
    });
    const endpoint = new ec2.CfnVPCEndpoint(this, "ExecuteApi", {
      vpcId: this.vpc.vpcId,
      serviceName: `com.amazonaws.${Stack.of(this).region}.execute-api`,
      vpcEndpointType: "Interface",
      privateDnsEnabled: false,
      subnetIds: importedSubnetIds,
      securityGroupIds: [securityGroup.securityGroupId],
    });
    return ec2.InterfaceVpcEndpoint.fromInterfaceVpcEndpointAttributes(this, "ExecuteApiRef", {
      vpcEndpointId: endpoint.ref,
      port: 443,
    });
  }
}
