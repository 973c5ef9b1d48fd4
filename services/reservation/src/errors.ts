// Error codes and typed errors. ERROR_CODES is the one list of the `code`s a client can see: the
// problem mapper, the OpenAPI document and the service README all come from it (tests check the
// last two). Expected outcomes of a reservation (sold out, already reserved) are values, not
// errors; the error classes are for requests that cannot be served.

/** Every problem `code` the API answers with: its HTTP status, title and when it is used. */
export const ERROR_CODES = {
  invalid_request: {
    status: 400,
    title: 'The request is invalid',
    when: 'malformed id, query, header or body (also a body that is not what its Content-Encoding says, or JSON with a repeated key)',
  },
  unauthorized: {
    status: 401,
    title: 'Missing or wrong admin token',
    when: 'an admin call without the right Bearer token',
  },
  not_found: { status: 404, title: 'No such resource', when: 'no route at this path' },
  event_not_found: { status: 404, title: 'No such event', when: 'the event id is unknown' },
  reservation_not_found: {
    status: 404,
    title: 'No such reservation',
    when: 'the reservation id is unknown',
  },
  method_not_allowed: {
    status: 405,
    title: 'Method not allowed',
    when: 'the path exists but not with this method (Allow lists the ones it has)',
  },
  request_timeout: {
    status: 408,
    title: 'Request timeout',
    when: 'the request did not arrive completely in time',
  },
  sale_not_open: {
    status: 409,
    title: 'The sale has not opened yet',
    when: 'before saleStartsAt',
  },
  sale_closed: { status: 409, title: 'The sale is over', when: 'after saleEndsAt' },
  sold_out: {
    status: 409,
    title: 'Sold out',
    when: 'every ticket is sold and the user holds none (a rejected user gets their reservationId)',
  },
  already_reserved: {
    status: 409,
    title: 'You already hold a ticket for this event',
    when: 'the user holds a ticket (with its reservationId)',
  },
  payload_too_large: {
    status: 413,
    title: 'The body is too large',
    when: 'the body is larger than BODY_LIMIT_BYTES',
  },
  uri_too_long: {
    status: 414,
    title: 'The URL is too long',
    when: 'the URL is longer than 2048 characters (or than the HTTP parser reads)',
  },
  unsupported_media_type: {
    status: 415,
    title: 'The body must be application/json',
    when: 'a body that is not UTF-8 application/json, or an unknown Content-Encoding',
  },
  expectation_failed: {
    status: 417,
    title: 'Expectation failed',
    when: 'an Expect header other than 100-continue',
  },
  rate_limited: {
    status: 429,
    title: 'Too many requests',
    when: 'a client address or user over its rate (Retry-After says when to retry)',
  },
  headers_too_large: {
    status: 431,
    title: 'Request header fields too large',
    when: 'the headers are larger than the server reads',
  },
  internal: {
    status: 500,
    title: 'Internal error',
    when: 'a bug; it is logged with its cause',
  },
  not_implemented: {
    status: 501,
    title: 'Not implemented',
    when: 'an HTTP method the server does not know',
  },
  unavailable: {
    status: 503,
    title: 'Temporarily unavailable',
    when: 'a dependency (Postgres, Redis, NATS) did not answer; retry after Retry-After',
  },
} as const satisfies Record<string, { status: number; title: string; when: string }>;

/** A problem `code`. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes, in table order (for the OpenAPI enum and the README). */
export const errorCodes = Object.keys(ERROR_CODES) as ErrorCode[];

/** Base of every error the service reports to a client, with its stable `code`. */
export abstract class AppError extends Error {
  abstract readonly code: ErrorCode;

  /**
   * The HTTP status of this error's code. (Not `status`: body-parser and http-errors assign
   * `err.status` on errors that pass through them.)
   */
  get httpStatus(): number {
    return ERROR_CODES[this.code].status;
  }
}

/** The request is malformed; `issues` says where. */
export class ValidationError extends AppError {
  override readonly name = 'ValidationError';
  readonly code = 'invalid_request';
  constructor(
    message: string,
    readonly issues: ReadonlyArray<{ path: string; message: string }> = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
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

export class UriTooLongError extends AppError {
  override readonly name = 'UriTooLongError';
  readonly code = 'uri_too_long';
}

export class UnsupportedMediaTypeError extends AppError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'unsupported_media_type';
}

export class MethodNotAllowedError extends AppError {
  override readonly name = 'MethodNotAllowedError';
  readonly code = 'method_not_allowed';
}

/** The client asked for something the service cannot serve right now; retry later. */
export class UnavailableError extends AppError {
  override readonly name: string = 'UnavailableError';
  readonly code = 'unavailable';
  constructor(
    message: string,
    readonly retryAfterSec = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A dependency the service talks to; names the side that failed in logs and errors. */
export type Dependency = 'postgres' | 'redis' | 'nats';

/**
 * A dependency (database, cache, broker) failed or did not answer. Adapters throw it with the
 * driver's error as `cause`; the API answers 503 `unavailable` with Retry-After.
 */
export class DependencyError extends UnavailableError {
  override readonly name = 'DependencyError';
  constructor(
    readonly dependency: Dependency,
    message: string,
    options: ErrorOptions & { retryAfterSec?: number } = {},
  ) {
    super(`${dependency}: ${message}`, options.retryAfterSec ?? 1, { cause: options.cause });
  }
}

/** Runs a dependency call; any failure becomes a DependencyError naming `what`, with its cause. */
export async function dependencyCall<T>(
  dependency: Dependency,
  what: string,
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof DependencyError) throw err;
    throw new DependencyError(dependency, `${what} failed`, { cause: err });
  }
}

/** A message in the stream that can never be processed (bad JSON, unknown event). */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
  constructor(
    readonly reason: 'unparseable' | 'invalid' | 'unknown_event',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The README's table of error codes, as Markdown (test/docs.test.ts keeps the README equal to it). */
export function errorCodesMarkdown(): string {
  const lines = ['| code | status | when |', '|---|---|---|'];
  for (const code of errorCodes) {
    const { status, when } = ERROR_CODES[code];
    lines.push(`| \`${code}\` | ${status} | ${when} |`);
  }
  return lines.join('\n');
}
