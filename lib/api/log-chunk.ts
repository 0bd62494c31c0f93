import * as z from "zod";

/**
 * GET /jobs/{jobName}/logs/follow (beyond Radix): the lines a job printed since a cursor, for clients that
 * poll to follow a running job (the CLI's `logs --follow`, the console). JSON, unlike GET .../logs.
 */
export const logChunkSchema = z
  .object({
    attempt: z
      .number()
      .int()
      .nullable()
      .meta({ description: "podIndex of the attempt these lines belong to; null while none has output" }),
    lines: z.array(z.string()).meta({ description: "New lines, oldest first, without line ends" }),
    cursor: z
      .string()
      .meta({ description: "Pass back as `cursor` to get only what comes after these lines" }),
    final: z
      .boolean()
      .meta({ description: "The job has ended and everything it printed has been returned: stop polling" }),
  })
  .meta({ id: "LogChunk" });

export type LogChunk = z.infer<typeof logChunkSchema>;
