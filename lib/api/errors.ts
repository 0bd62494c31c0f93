/**
 * Errors that become HTTP answers. Each fixes its status and Radix StatusReason
 * (job-scheduler/pkg/errors: NotFound 404, Invalid 422, BadRequest 400); anything else is a logged 500.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
  /** Safe to show to the caller (middy's convention); a 5xx never is. */
  get expose(): boolean {
    return this.statusCode < 500;
  }
}

export class NotFoundError extends HttpError {
  constructor(kind: string, name: string) {
    super(404, "NotFound", `${kind} ${name} not found`);
  }
}

/** 422: the body does not validate. */
export class InvalidRequestError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super(422, "Invalid", message, options);
  }
}

/** 400: the request is well-formed but cannot be done (state forbids it, impossible resources). */
export class BadRequestError extends HttpError {
  constructor(message: string, options?: ErrorOptions) {
    super(400, "BadRequest", message, options);
  }
}

export class ConflictError extends HttpError {
  constructor(message: string) {
    super(409, "Conflict", message);
  }
}

export class UnauthorizedError extends HttpError {
  constructor(message: string) {
    super(401, "Unauthorized", message);
  }
}

export class ForbiddenError extends HttpError {
  constructor(message: string) {
    super(403, "Forbidden", message);
  }
}

export class MethodNotAllowedError extends HttpError {
  constructor(method: string, path: string) {
    super(405, "MethodNotAllowed", `method ${method} is not allowed on ${path}`);
  }
}

export class PayloadTooLargeError extends HttpError {
  constructor(message: string) {
    super(413, "RequestEntityTooLarge", message);
  }
}
