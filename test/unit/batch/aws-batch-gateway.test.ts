import {
  BatchClient,
  ClientException,
  DescribeJobDefinitionsCommand,
  DescribeJobsCommand,
  ListJobsCommand,
  RegisterJobDefinitionCommand,
  ServerException,
  SubmitJobCommand,
} from "@aws-sdk/client-batch";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { AwsBatchGateway } from "#lib/batch/aws-batch-gateway.js";

const batch = mockClient(BatchClient);
const gateway = () => new AwsBatchGateway(new BatchClient({}), new BatchClient({}), async () => {});
const input = { jobName: "job-a", jobQueue: "q", jobDefinition: "d:1", parameters: { schedRun: "1" } };
const throttled = () =>
  Object.assign(new Error("Too Many Requests"), {
    name: "TooManyRequestsException",
    $metadata: { httpStatusCode: 429 },
  });

beforeEach(() => batch.reset());

describe("SubmitJob, exactly once", () => {
  it("retries throttling until it is accepted", async () => {
    batch
      .on(SubmitJobCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ jobId: "j-1", jobName: "job-a", jobArn: "arn" });
    expect(await gateway().submit(input)).toBe("j-1");
    expect(batch.commandCalls(SubmitJobCommand)).toHaveLength(3);
  });

  it("after a 5xx it finds the job that was created anyway and does not submit again", async () => {
    batch
      .on(SubmitJobCommand)
      .rejects(new ServerException({ message: "boom", $metadata: { httpStatusCode: 500 } }));
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [{ jobId: "j-2", jobName: "job-a" }] });
    batch.on(DescribeJobsCommand).resolves({
      jobs: [{ jobId: "j-2", jobName: "job-a", status: "RUNNABLE", parameters: { schedRun: "1" } } as never],
    });
    expect(await gateway().submit(input)).toBe("j-2");
    expect(batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });

  it("after a 5xx with no job created, submits again", async () => {
    batch
      .on(SubmitJobCommand)
      .rejectsOnce(new ServerException({ message: "boom", $metadata: { httpStatusCode: 500 } }))
      .resolves({ jobId: "j-3", jobName: "job-a", jobArn: "arn" });
    batch.on(ListJobsCommand).resolves({ jobSummaryList: [] });
    expect(await gateway().submit(input)).toBe("j-3");
  });

  it("does not repeat what Batch refused", async () => {
    batch
      .on(SubmitJobCommand)
      .rejects(new ClientException({ message: "bad", $metadata: { httpStatusCode: 400 } }));
    await expect(gateway().submit(input)).rejects.toThrow("bad");
    expect(batch.commandCalls(SubmitJobCommand)).toHaveLength(1);
  });
});

describe("a job definition revision for another image tag", () => {
  const deployed = (tags: Record<string, string>) => ({
    jobDefinitionName: "sample-compute",
    jobDefinitionArn: "arn:aws:batch:eu-west-1:123456789012:job-definition/sample-compute:1",
    revision: 1,
    type: "container",
    status: "ACTIVE",
    tags,
    ecsProperties: {
      taskProperties: [{ containers: [{ name: "main", image: "repo/compute:1.0.0" }] }],
    },
  });

  it("copies the deployed revision's tags except CloudFormation's aws: ones, which callers may not set", async () => {
    batch.on(DescribeJobDefinitionsCommand).resolves({
      jobDefinitions: [
        deployed({
          "aws:cloudformation:stack-name": "sample-job-scheduler",
          "aws:cloudformation:logical-id": "JobsDefinitioncompute",
          "AWS:Other": "x",
          team: "ml",
        }),
      ],
    });
    batch.on(RegisterJobDefinitionCommand).resolves({ jobDefinitionName: "sample-compute", revision: 2 });
    expect(await gateway().jobDefinitionFor("sample-compute", "repo/compute:2.0.0")).toBe("sample-compute:2");
    const [call] = batch.commandCalls(RegisterJobDefinitionCommand);
    expect(call!.args[0].input.tags).toEqual({ team: "ml" });
    expect(call!.args[0].input.ecsProperties?.taskProperties?.[0]?.containers?.[0]?.image).toBe(
      "repo/compute:2.0.0",
    );
  });

  it("sends no tags at all when the deployed revision has only CloudFormation's", async () => {
    batch.on(DescribeJobDefinitionsCommand).resolves({
      jobDefinitions: [deployed({ "aws:cloudformation:stack-name": "sample-job-scheduler" })],
    });
    batch.on(RegisterJobDefinitionCommand).resolves({ jobDefinitionName: "sample-compute", revision: 2 });
    await gateway().jobDefinitionFor("sample-compute", "repo/compute:2.0.0");
    expect(batch.commandCalls(RegisterJobDefinitionCommand)[0]!.args[0].input.tags).toBeUndefined();
  });
});
