import type { JobComponentConfig } from "../config/environment.js";
import { type JobDefinitionOptions, volumeName } from "./job-definition.js";

/**
 * What a job component's radixconfig adds to its job definition, the same for cdk/ and the local stack:
 * `secrets` as secret environment variables of the main container, `readOnlyFileSystem`, `runAsUser`, and
 * `volumeMounts` (EFS file systems and emptyDir scratch volumes).
 *
 * `ownSecretArn` is the component's own Secrets Manager secret (created by the stack), whose JSON keys are
 * the names `aws.secrets` does not map elsewhere: AWS Batch reads one key with `<arn>:<key>::`
 * (json-key, version-stage, version-id; https://docs.aws.amazon.com/batch/latest/userguide/specifying-sensitive-data.html).
 */
export function componentDefinitionOptions(
  job: JobComponentConfig,
  ownSecretArn: string,
): Pick<JobDefinitionOptions, "secrets" | "readonlyRootFilesystem" | "user" | "volumes"> {
  return {
    secrets: job.secrets.map((name) => ({ name, valueFrom: secretValueFrom(job, name, ownSecretArn) })),
    readonlyRootFilesystem: job.readOnlyFileSystem,
    user: job.runAsUser === undefined ? undefined : String(job.runAsUser),
    volumes: job.volumeMounts.map((mount) => ({
      name: volumeName(mount.name),
      containerPath: mount.path,
      readOnly: mount.efs?.readOnly ?? false,
      ...(mount.efs
        ? {
            efs: {
              fileSystemId: mount.efs.fileSystemId,
              accessPointId: mount.efs.accessPointId,
              rootDirectory: mount.efs.rootDirectory,
            },
          }
        : {}),
    })),
  };
}

/** Where secret `name` of the component is read from: its `aws.secrets` source, else a key of its own secret. */
export function secretValueFrom(job: JobComponentConfig, name: string, ownSecretArn: string): string {
  return job.aws?.secrets?.[name] ?? `${ownSecretArn}:${name}::`;
}

/** The names kept in the component's own secret (those `aws.secrets` does not map elsewhere). */
export const ownSecretKeys = (job: JobComponentConfig): string[] =>
  job.secrets.filter((name) => job.aws?.secrets?.[name] === undefined);
