import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { RETRY } from "./aws-deps.js";

/**
 * Hands a recorded batch to the submitter function (asynchronous invoke: the API answers at once), with
 * the request's correlation id, so the submitter's log lines carry it too.
 */
export function lambdaSubmitter(functionName: string) {
  const lambda = new LambdaClient({ ...RETRY });
  return async (component: string, batchName: string, correlationId?: string) => {
    await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: "Event",
        Payload: Buffer.from(JSON.stringify({ component, batchName, correlationId })),
      }),
    );
  };
}
