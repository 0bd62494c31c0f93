import { RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import * as apigw from "aws-cdk-lib/aws-apigateway";
import type * as ec2 from "aws-cdk-lib/aws-ec2";
import * as iam from "aws-cdk-lib/aws-iam";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import type { AwsConfig } from "../../lib/config/schema.js";

/** Stage of every API: the base URL is `https://{api-id}.execute-api.{region}.amazonaws.com/prod`. */
export const API_STAGE = "prod";

export interface JobsApiProps {
  /** `metadata.name` and the job component: the API is named `<app>-<component>`. */
  readonly app: string;
  readonly component: string;
  /** The component's API function (or its `live` alias). */
  readonly handler: lambda.IFunction;
  /** The execute-api interface endpoint; the resource policy admits requests through it only. */
  readonly endpoint: ec2.IInterfaceVpcEndpoint;
  /** `aws.api`: IAM authorization, stage throttling. */
  readonly settings: AwsConfig["api"];
  /** Active X-Ray tracing on the stage (`aws.functions.tracing`). @default false */
  readonly tracing?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The job scheduler API of one job component, as each Radix job component has its own scheduler: a
 * PRIVATE REST API (reachable only from a VPC through the execute-api interface endpoint) whose routes
 * `/` and `/{proxy+}` all go to the component's API function (Lambda proxy), which routes `/api/v1/...`.
 *
 * - Resource policy: Allow execute-api:Invoke through the endpoint; Deny when `aws:SourceVpce` is
 *   another endpoint (API Gateway refuses to deploy a private API without a policy; aws/aws-cdk#31660).
 *   With `iamAuth` every method needs SigV4 and the Allow names this account instead of anyone.
 * - Stage: throttling from `aws.api`, JSON access logs (no bodies; payloads are never logged), error-level
 *   execution logs, no data tracing.
 */
export class JobsApi extends Construct {
  public readonly api: apigw.RestApi;
  public readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: JobsApiProps) {
    super(scope, id);
    const endpointId = props.endpoint.vpcEndpointId;
    const invoke = { actions: ["execute-api:Invoke"], resources: ["execute-api:/*"] };
    const policy = new iam.PolicyDocument({
      statements: [
        new iam.PolicyStatement({
          ...invoke,
          effect: iam.Effect.ALLOW,
          principals: [props.settings.iamAuth ? new iam.AccountRootPrincipal() : new iam.AnyPrincipal()],
          conditions: { StringEquals: { "aws:SourceVpce": endpointId } },
        }),
        new iam.PolicyStatement({
          ...invoke,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          conditions: { StringNotEquals: { "aws:SourceVpce": endpointId } },
        }),
      ],
    });

    this.accessLogs = new logs.LogGroup(this, "AccessLogs", {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    this.api = new apigw.RestApi(this, "Api", {
      restApiName: `${props.app}-${props.component}`,
      description: `Radix job scheduler API of job component ${props.component}`,
      endpointConfiguration: { types: [apigw.EndpointType.PRIVATE], vpcEndpoints: [props.endpoint] },
      policy,
      cloudWatchRole: false,
      defaultMethodOptions: {
        authorizationType: props.settings.iamAuth
          ? apigw.AuthorizationType.IAM
          : apigw.AuthorizationType.NONE,
      },
      deployOptions: {
        stageName: API_STAGE,
        throttlingRateLimit: props.settings.throttlingRateLimit,
        throttlingBurstLimit: props.settings.throttlingBurstLimit,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: props.tracing ?? false,
      },
    });
    // Stage logging needs the account's API Gateway CloudWatch role to be set first.
    this.api.deploymentStage.node.addDependency(apiGatewayAccountLogging(this));

    const integration = new apigw.LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    this.api.root.addMethod("ANY", integration);
    this.api.root.addProxy({ defaultIntegration: integration, anyMethod: true });

    Validations.of(this).acknowledge(
      {
        id: "AwsSolutions-APIG2",
        reason:
          "The API function validates every request with the zod schemas of lib/api (the OpenAPI document's " +
          "source) and answers Radix's Status object; a gateway validator would answer in another shape.",
      },
      {
        id: "AwsSolutions-APIG3",
        reason:
          "A PRIVATE API: reachable only through the VPC's execute-api endpoint, admitted by the resource " +
          "policy, throttled per stage; there is no internet-facing surface for a web ACL to protect.",
      },
      {
        id: "AwsSolutions-COG4",
        reason:
          "Callers are services in the VPC (Radix job-scheduler clients), not Cognito users; access is the " +
          "endpoint-bound resource policy, plus SigV4 when aws.api.iamAuth is set.",
      },
    );
    if (!props.settings.iamAuth) {
      Validations.of(this).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "Radix callers send unsigned requests, so by default the private API relies on its resource policy " +
          "(only this VPC endpoint); set aws.api.iamAuth: true to require SigV4 on every method.",
      });
    }
  }
}

/**
 * The region-wide API Gateway setting that lets stages write logs: one per stack (every JobsApi shares
 * it). The role is retained so other APIs of the account keep logging if this stack is deleted.
 */
function apiGatewayAccountLogging(scope: Construct): apigw.CfnAccount {
  const stack = Stack.of(scope);
  const id = "ApiGatewayAccountLogging";
  const existing = stack.node.tryFindChild(id) as Construct | undefined;
  if (existing) return existing.node.defaultChild as apigw.CfnAccount;
  const holder = new Construct(stack, id);
  const role = new iam.Role(holder, "Role", {
    assumedBy: new iam.ServicePrincipal("apigateway.amazonaws.com"),
    description: "API Gateway writes access and execution logs of this region's APIs",
    managedPolicies: [
      iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AmazonAPIGatewayPushToCloudWatchLogs"),
    ],
  });
  role.applyRemovalPolicy(RemovalPolicy.RETAIN);
  Validations.of(role).acknowledge({
    id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
    reason:
      "The AWS-managed policy API Gateway documents for its account-level CloudWatch role; API Gateway " +
      "names its execution log groups itself, so the role cannot be scoped to this stack's groups.",
  });
  const account = new apigw.CfnAccount(holder, "Resource", { cloudWatchRoleArn: role.roleArn });
  account.node.addDependency(role);
  return account;
}
