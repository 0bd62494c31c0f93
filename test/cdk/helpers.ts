/** Helpers over synthesized CloudFormation templates (plain JSON; no aws-cdk-lib import). */

export type Json = Record<string, unknown>;
export type Resources = Record<string, { Type: string; Properties: Json }>;
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

export const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** A CloudFormation value as text: `{"Fn::GetAtt":["X","Arn"]}` → `<X.Arn>`, `{"Ref":"Y"}` → `<Y>`, joins joined. */
export function flat(value: unknown): string {
  if (typeof value === "string") return value;
  const node = value as Json;
  if (node["Fn::Join"]) {
    const [separator, parts] = node["Fn::Join"] as [string, unknown[]];
    return parts.map(flat).join(separator);
  }
  if (node["Fn::GetAtt"]) return `<${(node["Fn::GetAtt"] as string[]).join(".")}>`;
  if (node.Ref) return `<${node.Ref as string}>`;
  return JSON.stringify(value);
}

export const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

/**
 * Every statement of every AWS::IAM::Policy checked for least privilege: no action with `*`; Resource `*`
 * only when every action of the statement is in `starActions` (AWS offers no resource-level permission for
 * them); any other resource with `*` must match one of `wildcards`. Returns the violations, empty when none.
 */
export function leastPrivilegeViolations(
  resources: Resources,
  rules: { starActions: ReadonlySet<string>; wildcards: readonly RegExp[] },
): string[] {
  const violations: string[] = [];
  for (const [id, policy] of ofType(resources, "AWS::IAM::Policy")) {
    for (const statement of (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement) {
      const actions = list(statement.Action);
      for (const action of actions)
        if (action.includes("*")) violations.push(`${id}: wildcard action ${action}`);
      for (const resource of list(statement.Resource).map(flat)) {
        if (resource === "*") {
          for (const action of actions) {
            if (!rules.starActions.has(action)) violations.push(`${id}: ${action} on Resource *`);
          }
        } else if (resource.includes("*") && !rules.wildcards.some((pattern) => pattern.test(resource))) {
          violations.push(`${id}: unexpected wildcard resource ${resource}`);
        }
      }
    }
  }
  return violations;
}

/** Actions AWS offers no resource-level permissions for (Service Authorization Reference); cdk/ comments each. */
export const STAR_RESOURCE_ACTIONS = new Set([
  "batch:DescribeJobs",
  "batch:ListJobs",
  "batch:DescribeJobDefinitions",
  "ecr:GetAuthorizationToken",
]);

/**
 * Wildcard resources a deployment of `app` may grant: payload keys (all of them for the functions, one
 * component's for its job role), job ids, its definitions' revisions.
 */
export const deploymentWildcards = (app: string, components: readonly string[]): RegExp[] => [
  /^<Payloads?Bucket\w+\.Arn>\/payloads\/\*$/,
  ...components.map(
    (component) => new RegExp(`^<Payloads?Bucket\\w+\\.Arn>\\/payloads\\/${component}\\/\\*$`),
  ),
  /^arn:<AWS::Partition>:batch:[a-z0-9-]+:(<AWS::AccountId>|\d{12}):job\/\*$/,
  // A batch's maxParallel consumable resource (lib/service/max-parallel.ts): named after the batch at run time.
  /^arn:<AWS::Partition>:batch:[a-z0-9-]+:(<AWS::AccountId>|\d{12}):consumable-resource\/jobsched-\*$/,
  ...components.map(
    (component) =>
      new RegExp(
        `^arn:<AWS::Partition>:batch:[a-z0-9-]+:(<AWS::AccountId>|\\d{12}):job-definition/${app}-${component}:\\*$`,
      ),
  ),
];
