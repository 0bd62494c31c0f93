/**
 * Errors as the AWS Batch REST-JSON protocol returns them: an HTTP status, the error name in the
 * `x-amzn-errortype` header and `{"message": ...}` as body; the SDK throws an error of that name.
 */
export class BatchApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly errorType: "ClientException" | "ServerException" | "TooManyRequestsException",
    message: string,
  ) {
    super(message);
    this.name = errorType;
  }
}

/** HTTP 400 ClientException: the request is invalid or names something that does not exist. */
export const clientError = (message: string) => new BatchApiError(400, "ClientException", message);

/** HTTP 429 TooManyRequestsException: throttled (the SDK retries it unless told not to). */
export const tooManyRequests = () => new BatchApiError(429, "TooManyRequestsException", "Too Many Requests");

/** HTTP 500 ServerException. */
export const serverError = (message: string) => new BatchApiError(500, "ServerException", message);
