import {
  type CloudWatchLogsClient,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from "@aws-sdk/client-cloudwatch-logs";
import type { LogLine, LogReader } from "./log-reader.js";

/** Batch writes job output to the awslogs group of the job definition; one stream per attempt's container. */
export class CloudWatchLogReader implements LogReader {
  constructor(
    private readonly client: CloudWatchLogsClient,
    private readonly logGroupName: string,
  ) {}

  async read(logStreamName: string, options: { since?: number; tail?: number }): Promise<LogLine[]> {
    const lines: LogLine[] = [];
    // With tail, read backwards from the end only as far as needed; otherwise forwards from the start.
    const fromEnd = options.tail !== undefined;
    let nextToken: string | undefined;
    for (let page = 0; page < 1000; page++) {
      try {
        const result = await this.client.send(
          new GetLogEventsCommand({
            logGroupName: this.logGroupName,
            logStreamName,
            startTime: options.since,
            startFromHead: !fromEnd,
            nextToken,
          }),
        );
        const events = (result.events ?? []).map((event) => ({
          timestamp: event.timestamp,
          message: event.message ?? "",
        }));
        if (fromEnd) lines.unshift(...events);
        else lines.push(...events);
        const token = fromEnd ? result.nextBackwardToken : result.nextForwardToken;
        if (!token || token === nextToken || events.length === 0) break;
        if (fromEnd && lines.length >= (options.tail ?? 0)) break;
        nextToken = token;
      } catch (error) {
        if (error instanceof ResourceNotFoundException) return [];
        throw error;
      }
    }
    return options.tail === undefined ? lines : lines.slice(-options.tail);
  }
}
