import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { ConfigError, loadConfigFile, parseConfig } from "#lib/config/load.js";
import { deploymentConfigSchema } from "#lib/config/schema.js";

/**
 * radixconfig fields, one by one: each is either made to work (and merged from the deployment's Radix
 * environment as radix-operator merges it) or refused with a message naming the field.
 */
const job = (fields: Record<string, unknown>) => ({
  metadata: { name: "app" },
  spec: { jobs: [{ name: "compute", schedulerPort: 8000, image: "repo/compute:{imageTagName}", ...fields }] },
});
const efs = { fileSystemId: "fs-0123456789abcdef0", securityGroupId: "sg-0123456789abcdef0" };
const inEnv = (fields: Record<string, unknown>) => ({
  ...job({ environmentConfig: [{ environment: "prod", ...fields }] }),
  aws: { environment: "prod" },
});

describe("refused radixconfig fields", () => {
  it.each([
    [job({ image: undefined, src: "." }), "spec.jobs.0.src: Radix builds the image", "dkr.ecr"],
    [job({ image: undefined, dockerfileName: "Dockerfile" }), "spec.jobs.0.dockerfileName", "{imageTagName}"],
    [
      {
        ...job({ image: undefined, environmentConfig: [{ environment: "prod", src: "./prod" }] }),
        aws: { environment: "prod" },
      },
      "spec.jobs.0.environmentConfig.0.src",
      "dkr.ecr",
    ],
    [job({ identity: { azure: { clientId: "x" } } }), "spec.jobs.0.identity.azure", "identity.aws"],
    [
      inEnv({ identity: { azure: { clientId: "x" } } }),
      "spec.jobs.0.environmentConfig.0.identity.azure",
      "identity.aws",
    ],
    [
      job({ secretRefs: { azureKeyVaults: [{ name: "kv", items: [{ name: "a", envVar: "A" }] }] } }),
      "spec.jobs.0.secretRefs.azureKeyVaults",
      "Secrets Manager",
    ],
    [
      inEnv({ secretRefs: { azureKeyVaults: [{ name: "kv", items: [] }] } }),
      "spec.jobs.0.environmentConfig.0.secretRefs.azureKeyVaults",
      "aws.secrets",
    ],
    [
      job({ volumeMounts: [{ name: "v", path: "/data", blobFuse2: { container: "c" } }] }),
      "spec.jobs.0.volumeMounts.0.blobFuse2",
      "aws-efs",
    ],
    [
      job({ volumeMounts: [{ name: "v", path: "/data", type: "azure-blob", storage: "c" }] }),
      "spec.jobs.0.volumeMounts.0.type",
      "EFS",
    ],
    [
      job({ volumeMounts: [{ name: "v", path: "/data", type: "azure-file", storage: "share" }] }),
      "spec.jobs.0.volumeMounts.0.storage",
      "aws-efs",
    ],
    [
      inEnv({ volumeMounts: [{ name: "v", path: "/data", accessMode: "ReadWriteMany" }] }),
      "spec.jobs.0.environmentConfig.0.volumeMounts.0.accessMode",
      "aws-efs",
    ],
    [
      job({ volumeMounts: [{ name: "v", path: "/data", efs: { fileSystemId: efs.fileSystemId } }] }),
      "spec.jobs.0.volumeMounts.0.efs",
      "securityGroupId",
    ],
    [job({ volumeMounts: [{ name: "v", path: "/data" }] }), "spec.jobs.0.volumeMounts.0", "efs"],
    [job({ ports: [{ name: "http", port: 8080 }] }), "spec.jobs.0.ports", "no service address"],
    [
      job({ monitoringConfig: { portName: "metrics", path: "/metrics" } }),
      "spec.jobs.0.monitoringConfig",
      "CloudWatch",
    ],
    [job({ monitoring: true }), "spec.jobs.0.monitoring", "CloudWatch"],
    [inEnv({ monitoring: true }), "spec.jobs.0.environmentConfig.0.monitoring", "CloudWatch"],
    [
      job({ horizontalScaling: { maxReplicas: 2 } }),
      "spec.jobs.0: 'horizontalScaling' is not a field",
      "README",
    ],
    [
      inEnv({ replicas: 2 }),
      "spec.jobs.0.environmentConfig.0: 'replicas' is not a field",
      "environmentConfig",
    ],
    [
      job({ identity: { aws: { roleArn: "x" } } }),
      "spec.jobs.0.identity.aws: 'roleArn' is not a field",
      "policyArns",
    ],
    [
      job({ secrets: ["A"], aws: { secrets: { B: "/b" } } }),
      "spec.jobs.0.aws.secrets.B",
      "not listed in secrets",
    ],
    [
      job({ secrets: ["A"], aws: { secrets: { A: "arn:aws:s3:::bucket" } } }),
      "spec.jobs.0.aws.secrets.A",
      "Secrets Manager",
    ],
    [
      job({ environmentConfig: [{ environment: "prod", variables: { A: "1" } }] }),
      "spec.jobs.0.environmentConfig: the deployment names no Radix environment",
      "aws.environment",
    ],
    [
      {
        ...job({}),
        spec: { ...job({}).spec, environments: [{ name: "dev" }] },
        aws: { environment: "prod" },
      },
      "aws.environment: 'prod' is not one of spec.environments",
      "dev",
    ],
    [job({ enabled: false }), "spec.jobs: no job component is enabled", ""],
    [
      job({ cron: { schedules: ["0 0 1 * MON"], concurrency: "Forbid" } }),
      "spec.jobs.0.cron.schedules.0.cron",
      "two schedules",
    ],
    [
      job({ cron: { schedules: ["0 0 * * *"], concurrency: "Sometimes" } }),
      "spec.jobs.0.cron.concurrency",
      "",
    ],
    [job({ schedules: [{ cron: "0 0 0 * * *" }] }), "spec.jobs.0.schedules.0.cron", "has 6 fields"],
    [job({ schedules: [{ cron: "0 0 L * *" }] }), "spec.jobs.0.schedules.0.cron", "L, W, # or H"],
    [job({ schedules: [{ cron: "61 * * * *" }] }), "spec.jobs.0.schedules.0.cron", "not a valid cron"],
    [
      job({ schedules: [{ cron: "@daily", timeZone: "Mars/Olympus" }] }),
      "spec.jobs.0.schedules.0.timeZone",
      "IANA",
    ],
    [
      job({
        schedules: [
          { name: "a", cron: "@daily" },
          { name: "a", cron: "@hourly" },
        ],
      }),
      "spec.jobs.0.schedules.1.name",
      "twice",
    ],
    [
      job({ schedules: [{ cron: "@daily", payload: "x".repeat(8000) }] }),
      "spec.jobs.0.schedules.0",
      "EventBridge Scheduler",
    ],
  ])("refuses, naming the field (%#)", (raw, field, hint) => {
    let message = "";
    try {
      parseConfig(raw);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain(field);
    expect(message).toContain(hint);
  });
});

describe("environmentConfig, as radix-operator merges it", () => {
  const raw = {
    metadata: { name: "app" },
    spec: {
      environments: [{ name: "dev" }, { name: "prod" }],
      jobs: [
        {
          name: "compute",
          schedulerPort: 8000,
          image: "repo/compute:{imageTagName}",
          imageTagName: "1.0",
          variables: { A: "common", B: "common" },
          resources: { requests: { cpu: "1" }, limits: { memory: "1Gi" } },
          node: { gpu: "nvidia-a10g", gpuCount: "1" },
          timeLimitSeconds: 100,
          identity: { aws: { policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"] } },
          notifications: { webhook: "http://hooks.local/common" },
          volumeMounts: [{ name: "models", path: "/models", efs: { ...efs, readOnly: true } }],
          readOnlyFileSystem: true,
          command: ["python"],
          cron: { schedules: ["0 2 * * *"], concurrency: "Forbid", timeZone: "Europe/Oslo" },
          environmentConfig: [
            {
              environment: "prod",
              imageTagName: "2.0",
              variables: { B: "prod", C: "prod" },
              resources: { limits: { memory: "4Gi" } },
              node: { gpuCount: "2" },
              backoffLimit: 3,
              identity: {
                aws: { statements: [{ actions: ["s3:GetObject"], resources: ["arn:aws:s3:::data/*"] }] },
              },
              notifications: { webhook: "http://hooks.local/prod" },
              volumeMounts: [
                { name: "models", efs: { accessPointId: "fsap-0123456789abcdef0" } },
                { name: "scratch", path: "/scratch", emptyDir: { sizeLimit: "10Gi" } },
              ],
              readOnlyFileSystem: false,
              args: ["train.py"],
              runAsUser: 1000,
              cron: { schedules: ["*/15 * * * *"], concurrency: "Replace" },
            },
            { environment: "dev", enabled: false },
          ],
        },
        {
          name: "etl",
          schedulerPort: 8001,
          image: "repo/etl:1",
          environmentConfig: [{ environment: "dev" }],
        },
      ],
    },
  };

  it("prod: the environment's fields override the common ones, field by field", () => {
    const [compute] = parseConfig(raw, "radixconfig", { environment: "prod" }).spec.jobs;
    expect(compute).toMatchObject({
      imageTagName: "2.0",
      variables: { A: "common", B: "prod", C: "prod" },
      resources: { limits: { memory: "4Gi" } },
      node: { gpu: "nvidia-a10g", gpuCount: "2" },
      timeLimitSeconds: 100,
      backoffLimit: 3,
      identity: {
        aws: {
          policyArns: ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
          statements: [{ effect: "Allow", actions: ["s3:GetObject"], resources: ["arn:aws:s3:::data/*"] }],
        },
      },
      notifications: { webhook: "http://hooks.local/prod" },
      readOnlyFileSystem: false,
      command: ["python"],
      args: ["train.py"],
      runAsUser: 1000,
      schedules: [{ name: "cron-0", cron: "*/15 * * * *", timeZone: "UTC", concurrencyPolicy: "Replace" }],
    });
    expect(compute!.volumeMounts).toEqual([
      {
        name: "models",
        path: "/models",
        efs: { ...efs, accessPointId: "fsap-0123456789abcdef0", rootDirectory: undefined, readOnly: true },
      },
      { name: "scratch", path: "/scratch", emptyDir: { sizeLimit: "10Gi" } },
    ]);
  });

  it("dev: enabled false means the component is not deployed; the others keep their common fields", () => {
    const config = parseConfig(raw, "radixconfig", { environment: "dev" });
    expect(config.spec.jobs.map((entry) => entry.name)).toEqual(["etl"]);
    expect(config.aws.environment).toBe("dev");
  });

  it("the resolved configuration is itself valid, so a loaded configuration parses again unchanged", () => {
    const config = parseConfig(raw, "radixconfig", { environment: "prod" });
    expect(deploymentConfigSchema.parse(structuredClone(config))).toEqual(config);
  });

  it("accepts the Radix fields that mean nothing more on AWS, and Radix's empty values", () => {
    const [compute] = parseConfig(
      job({
        monitoring: false,
        ports: [],
        monitoringConfig: {},
        secretRefs: {},
        safeToRestart: true,
        enabled: true,
        payload: { path: "/args" },
        secrets: ["DB_PASSWORD", "API_KEY"],
        aws: { secrets: { API_KEY: "arn:aws:ssm:eu-west-1:123456789012:parameter/api-key" } },
      }),
    ).spec.jobs;
    expect(compute).toMatchObject({ secrets: ["DB_PASSWORD", "API_KEY"], readOnlyFileSystem: false });
  });
});

describe("the sample configuration and the README's examples", () => {
  const sample = parse(readFileSync("radixconfig.yaml", "utf8"));
  const readme = readFileSync("README.md", "utf8");
  const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);

  it("the sample loads", () => {
    expect(loadConfigFile("radixconfig.yaml").spec.jobs.map((entry) => entry.name)).toEqual(["compute"]);
  });

  it.each(examples.map((text, index) => [index, text]))(
    "README example %i loads over the sample",
    (_index, text) => {
      const example = parse(text as string);
      const raw = { ...sample, ...example, spec: { ...sample.spec, ...example.spec } };
      expect(() => parseConfig(raw, "README example")).not.toThrow();
    },
  );
});
