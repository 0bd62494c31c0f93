import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import {
  checkLambdaEnvironments,
  environmentBytes,
  LAMBDA_ENVIRONMENT_MAX_BYTES,
} from "../../cdk/environment-size.js";
import { JobSchedulerStack } from "../../cdk/stack.js";
import { loadConfigFile } from "../../lib/config/load.js";
import { bundledRuntimeConfig } from "../../lib/config/runtime.js";
import { type Json, ofType, type Resources } from "./helpers.js";

const noBundling = () =>
  new App({ builtinCloudFormationValidation: false, context: { "aws:cdk:bundling-stacks": [] } });

describe("Lambda's 4 KB environment limit", () => {
  it("10 components with variables, webhooks and status rules, and 5 projects, keep every environment under 4 KB", () => {
    const config = loadConfigFile("test/fixtures/many-components.yaml");
    expect(config.spec.jobs).toHaveLength(10);
    // The settings are about 11 KB of JSON: far more than one environment could hold.
    expect(bundledRuntimeConfig(config).length).toBeGreaterThan(2 * LAMBDA_ENVIRONMENT_MAX_BYTES);
    const stack = new JobSchedulerStack(noBundling(), "Fleet", {
      config,
      env: { region: config.aws.region },
    });
    const resources = Template.fromStack(stack).toJSON().Resources as Resources;
    const functions = ofType(resources, "AWS::Lambda::Function");
    expect(functions.length).toBeGreaterThanOrEqual(14);
    for (const [id, fn] of functions) {
      const variables = ((fn.Properties.Environment as { Variables?: Json } | undefined)?.Variables ??
        {}) as Json;
      expect(environmentBytes(variables), id).toBeLessThanOrEqual(LAMBDA_ENVIRONMENT_MAX_BYTES);
      expect(JSON.stringify(variables), id).not.toContain("hooks.internal.example.com");
    }
  });

  it("synth fails naming the function when an environment could pass 4 KB", () => {
    const stack = new Stack(noBundling(), "Big");
    checkLambdaEnvironments(stack);
    new lambda.Function(stack, "Crowded", {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: "index.handler",
      code: lambda.Code.fromInline("exports.handler = async () => {};"),
      environment: { SETTINGS: "x".repeat(3000), OTHER: "y".repeat(1200) },
    });
    expect(() => Template.fromStack(stack)).toThrow(
      /Big\/Crowded\/Resource: its environment variables would take up to \d+ bytes.*Lambda allows 4096 bytes.*Largest: SETTINGS 3000 B/s,
    );
  });

  it("counts a reference at its longest name, so a deploy can never measure more than synth did", () => {
    expect(environmentBytes({ A: "abc" })).toBe('{"A":"abc"}'.length);
    expect(environmentBytes({ A: { Ref: "Table" } })).toBe('{"A":""}'.length + 512);
    expect(environmentBytes({ A: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":x"]] } })).toBe(
      '{"A":"arn::x"}'.length + 512,
    );
  });
});
