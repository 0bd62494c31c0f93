import type { Context } from "aws-lambda";
import * as z from "zod";
import { invocationDeps } from "../observability/correlation.js";
import type { BatchDeps } from "./deps.js";
import { submitBatch } from "./submit.js";

const submitRequestSchema = z.object({
  component: z.string(),
  batchName: z.string(),
  correlationId: z.string().optional(),
});

/**
 * The background submitter: `{component, batchName, correlationId}` in, the batch's pending groups
 * submitted; its log lines carry the correlation id of the API request that recorded the batch.
 */
export function createSubmitterHandler(deps: BatchDeps) {
  return async (event: unknown, context?: Partial<Context>) => {
    const { component, batchName, correlationId } = submitRequestSchema.parse(event);
    try {
      await submitBatch(invocationDeps(deps, { context, correlationId }), component, batchName);
    } finally {
      deps.metrics?.flush();
    }
    return { batchName };
  };
}
