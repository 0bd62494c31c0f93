import { Stack, Validations } from "aws-cdk-lib";
import * as iam from "aws-cdk-lib/aws-iam";
import { flattenCfnReference } from "cdk-nag/lib/utils/flatten-cfn-reference.js";
import type { IConstruct } from "constructs";

/** One IAM statement granted by {@link allow}. */
export interface AllowStatement {
  /** Explicit actions; a wildcard action is refused (least privilege, issue 5). */
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
  /**
   * Why a wildcard in `resources` is needed (object keys under a prefix, job ids not known in advance, an
   * action without resource-level permissions). Required when a resource contains `*`; it becomes the
   * reason of the cdk-nag AwsSolutions-IAM5 acknowledgement of exactly that resource.
   */
  readonly wildcardReason?: string;
}

/**
 * Adds an Allow statement to the grantee's policy. Every resource with a `*` is acknowledged for cdk-nag
 * one by one (cdk-nag 3 matches `AwsSolutions-IAM5[Resource::<flattened resource>]` exactly and has no
 * prefix match), with the statement's reason, on the grantee's role.
 */
export function allow(grantee: iam.IGrantable, statement: AllowStatement): void {
  const wildAction = statement.actions.find((action) => action.includes("*"));
  if (wildAction) throw new Error(`wildcard action ${wildAction} is not allowed; name the actions`);
  const principal = grantee.grantPrincipal;
  principal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: statement.actions,
      resources: statement.resources,
      conditions: statement.conditions,
    }),
  );
  const stack = Stack.of(principal as unknown as IConstruct);
  for (const resource of statement.resources) {
    const flat = flattenCfnReference(stack.resolve(resource));
    if (!flat.includes("*")) continue;
    if (!statement.wildcardReason) {
      throw new Error(`resource ${flat} has a wildcard; give the reason (wildcardReason)`);
    }
    Validations.of(principal as unknown as IConstruct).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${flat}]`,
      reason: statement.wildcardReason,
    });
  }
}
