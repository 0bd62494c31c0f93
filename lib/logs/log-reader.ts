/** One line a job printed, with its time when the source keeps one (epoch ms). */
export interface LogLine {
  timestamp?: number;
  message: string;
}

/** Port: reads a job attempt's output by its log stream name. */
export interface LogReader {
  /** All lines of the stream, oldest first, optionally only those at or after `since` (epoch ms). */
  read(logStreamName: string, options: { since?: number; tail?: number }): Promise<LogLine[]>;
}
