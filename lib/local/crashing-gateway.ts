import type { SubmitJobCommandInput } from "@aws-sdk/client-batch";
import type { BatchGateway } from "../batch/gateway.js";

/** Raised in place of a submitter that died between SubmitJob and recording its answer. */
export class SimulatedCrash extends Error {
  override name = "SimulatedCrash";
}

/**
 * Fault injection for the local stack (env `SUBMITTER_CRASH_RATE` or the stack option): with the given
 * probability a successful SubmitJob is followed by a "crash" before the caller can record the job id,
 * as when a Lambda times out or dies at that moment. The job exists in Batch; the record still says
 * `submitting`; the reconciler must adopt it rather than start it twice.
 */
export function crashingGateway(
  inner: BatchGateway,
  rate: number,
  random = Math.random,
): BatchGateway & { crashes: number } {
  const gateway = {
    crashes: 0,
    submit: async (input: SubmitJobCommandInput, options?: { deadline?: number }) => {
      const id = await inner.submit(input, options);
      if (random() < rate) {
        gateway.crashes++;
        throw new SimulatedCrash(`simulated submitter crash after SubmitJob ${input.jobName}`);
      }
      return id;
    },
    terminate: (id: string, reason: string) => inner.terminate(id, reason),
    cancel: (id: string, reason: string) => inner.cancel(id, reason),
    describe: (ids: readonly string[]) => inner.describe(ids),
    findByName: (queue: string, name: string) => inner.findByName(queue, name),
    jobDefinitionFor: (name: string, image: string | undefined) => inner.jobDefinitionFor(name, image),
    createConsumableResource: (name: string, quantity: number) =>
      inner.createConsumableResource(name, quantity),
    deleteConsumableResource: (name: string) => inner.deleteConsumableResource(name),
  };
  return gateway;
}
