// Typed errors. Expected outcomes of a reservation (sold out, already reserved) are values, not
// errors; these are for requests that cannot be served. http/problem.ts maps them to problem+json.

/** Base of every error the service reports to a client, with its stable `code`. */
export abstract class AppError extends Error {
  abstract readonly code: string;
}

/** The request is malformed; `issues` says where. */
export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly code = 'invalid_request';
  constructor(
    message: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
  ) {
    super(message);
  }
}

export class NotFoundError extends AppError {
  override readonly name = 'NotFoundError';
  constructor(
    readonly code: 'event_not_found' | 'reservation_not_found' | 'not_found',
    message: string,
  ) {
    super(message);
  }
}

export class UnauthorizedError extends AppError {
  override readonly name = 'UnauthorizedError';
  readonly code = 'unauthorized';
}

export class RateLimitedError extends AppError {
  override readonly name = 'RateLimitedError';
  readonly code = 'rate_limited';
  constructor(
    message: string,
    readonly retryAfterSec: number,
  ) {
    super(message);
  }
}

export class PayloadTooLargeError extends AppError {
  override readonly name = 'PayloadTooLargeError';
  readonly code = 'payload_too_large';
}

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'unsupported_media_type';
}

export class MethodNotAllowedError extends AppError {
  override readonly name = 'MethodNotAllowedError';
  readonly code = 'method_not_allowed';
}

/** A dependency (broker, cache, database) did not answer; the client should retry later. */
export class UnavailableError extends AppError {
  override readonly name = 'UnavailableError';
  readonly code = 'unavailable';
  constructor(
    message: string,
    readonly retryAfterSec = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A message in the stream that can never be processed (bad JSON, unknown event). */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  constructor(
    readonly reason: 'unparseable' | 'invalid' | 'unknown_event',
    message: string,
  ) {
    super(message);
  }
}
