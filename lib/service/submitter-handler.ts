import * as z from "zod";
import type { ServiceDeps } from "./deps.js";
import { submitBatch } from "./submit.js";

const submitRequestSchema = z.object({ component: z.string(), batchName: z.string() });

/** The background submitter: `{component, batchName}` in, the batch's pending groups submitted. */
export function createSubmitterHandler(deps: ServiceDeps) {
  return async (event: unknown) => {
    const { component, batchName } = submitRequestSchema.parse(event);
    try {
      await submitBatch(deps, component, batchName);
    } finally {
      deps.metrics?.flush();
    }
    return { batchName };
  };
}
