import { Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import type { IConstruct } from "constructs";

/**
 * Lambda's limit on a function's environment: "4 KB, for all environment variables associated with the
 * function, in aggregate" (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html). It
 * cannot be raised, and CloudFormation only finds out at deploy time.
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4 * 1024;

/**
 * What a reference (Ref, Fn::GetAtt, an import) is counted as before CloudFormation resolves it: 512
 * characters, the longest name any resource these functions reference can have (a CloudWatch Logs group
 * name; table names go to 255, event bus and function names are shorter). The estimate is therefore never
 * below what Lambda will measure.
 */
export const REFERENCE_ALLOWANCE = 512;

/** A resolved CloudFormation value as the longest text it can become. */
function longest(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  const node = (value ?? {}) as Record<string, unknown>;
  const join = node["Fn::Join"] as [string, unknown[]] | undefined;
  if (join) return join[1].map(longest).join(join[0]);
  return "x".repeat(REFERENCE_ALLOWANCE);
}

/**
 * The size of an environment (variables already resolved to CloudFormation values) as the JSON object
 * Lambda stores, with every reference at its longest.
 */
export function environmentBytes(variables: Readonly<Record<string, unknown>>): number {
  const rendered = Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, longest(value)]),
  );
  return Buffer.byteLength(JSON.stringify(rendered), "utf8");
}

/** One line per function whose environment could pass Lambda's 4 KB, naming its largest variables. */
export function oversizedEnvironments(scope: IConstruct): string[] {
  const stack = Stack.of(scope);
  const problems: string[] = [];
  for (const node of scope.node.findAll()) {
    if (!(node instanceof lambda.CfnFunction)) continue;
    const environment = stack.resolve(node.environment) as
      | { variables?: Record<string, unknown>; Variables?: Record<string, unknown> }
      | undefined;
    const variables = environment?.variables ?? environment?.Variables ?? {};
    const bytes = environmentBytes(variables);
    if (bytes <= LAMBDA_ENVIRONMENT_MAX_BYTES) continue;
    const largest = Object.entries(variables)
      .map(([name, value]) => ({ name, bytes: Buffer.byteLength(longest(value), "utf8") }))
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, 3)
      .map((variable) => `${variable.name} ${variable.bytes} B`)
      .join(", ");
    problems.push(
      `${node.node.path}: its environment variables would take up to ${bytes} bytes once deployed ` +
        `(references counted at ${REFERENCE_ALLOWANCE} characters); Lambda allows ${LAMBDA_ENVIRONMENT_MAX_BYTES} ` +
        `bytes for all of a function's variables together. Largest: ${largest}`,
    );
  }
  return problems;
}

/**
 * Makes synth fail, with the function and its largest variables named, when any Lambda function of the
 * stack could pass the 4 KB environment limit, instead of CloudFormation failing halfway through a deploy.
 */
export function checkLambdaEnvironments(stack: Stack): void {
  stack.node.addValidation({ validate: () => oversizedEnvironments(stack) });
}
