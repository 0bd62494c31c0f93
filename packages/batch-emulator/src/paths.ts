import { createHash } from "node:crypto";
import { join } from "node:path";

/** ARNs and file locations of the emulator, in one place. */
export interface Naming {
  region: string;
  accountId: string;
  dataDir: string;
}

export const jobQueueArn = (n: Naming, queue: string) =>
  `arn:aws:batch:${n.region}:${n.accountId}:job-queue/${queue}`;
export const jobArn = (n: Naming, jobId: string) => `arn:aws:batch:${n.region}:${n.accountId}:job/${jobId}`;
export const jobDefinitionArn = (n: Naming, name: string, revision: number) =>
  `arn:aws:batch:${n.region}:${n.accountId}:job-definition/${name}:${revision}`;
export const taskArn = (n: Naming, taskId: string) =>
  `arn:aws:ecs:${n.region}:${n.accountId}:task/local/${taskId}`;

/** The id of a job's (or child's) n-th ECS task: derived, so it needs no storage per child. */
export const taskIdFor = (jobId: string, attempt: number) =>
  createHash("sha256").update(`${jobId}#${attempt}`).digest("hex").slice(0, 32);

/** AWS's awslogs stream name: `<prefix>/<container>/<task id>`; the main container's is `<name>/default/<id>`. */
export const logStreamFor = (definitionName: string, containerName: string, taskId: string) =>
  `${definitionName}/${containerName}/${taskId}`;

/** Where the emulator wrote a log stream's output (stdout and stderr of one container attempt). */
export function logFileForStream(dataDir: string, logStreamName: string): string {
  const segments = logStreamName
    .split("/")
    .filter((segment) => segment.length > 0)
    .map((segment) => encodeURIComponent(segment).replace(/^\.+$/, (dots) => "%2E".repeat(dots.length)));
  return `${join(dataDir, "logs", ...segments)}.log`;
}

/** The work dir of one attempt of one job or child: volumes and container roots live under it. */
export const attemptDir = (dataDir: string, jobId: string, attempt: number) =>
  join(dataDir, "tasks", jobId.replaceAll(":", "_"), String(attempt));

export const stateFile = (dataDir: string) => join(dataDir, "batch-state.json");
export const eventsFile = (dataDir: string) => join(dataDir, "events.ndjson");
export const deadEventsFile = (dataDir: string) => join(dataDir, "events-dead.ndjson");
export const pendingEventsFile = (dataDir: string) => join(dataDir, "events-pending.ndjson");
