import type { Response } from 'express';
import {
  AppError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../errors.js';

export const PROBLEM_BASE = 'https://flashsale.dev/problems/';

const TITLES: Record<string, string> = {
  invalid_request: 'The request is invalid',
  unauthorized: 'Missing or wrong admin token',
  event_not_found: 'No such event',
  reservation_not_found: 'No such reservation',
  not_found: 'No such resource',
  method_not_allowed: 'Method not allowed',
  sale_not_open: 'The sale has not opened yet',
  sale_closed: 'The sale is over',
  sold_out: 'Sold out',
  already_reserved: 'You already hold a ticket for this event',
  payload_too_large: 'The body is too large',
  unsupported_media_type: 'The body must be application/json',
  rate_limited: 'Too many requests',
  unavailable: 'Temporarily unavailable',
  internal: 'Internal error',
};

/** Writes an RFC 9457 problem. Extensions (reservationId, issues, ...) go next to the members. */
export function sendProblem(
  res: Response,
  status: number,
  code: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): void {
  res
    .status(status)
    .type('application/problem+json')
    .send(
      JSON.stringify({
        type: PROBLEM_BASE + code,
        title: TITLES[code] ?? code,
        status,
        detail,
        code,
        ...extensions,
      }),
    );
}

function statusOf(err: AppError): number {
  if (err instanceof ValidationError) return 400;
  if (err instanceof UnauthorizedError) return 401;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof MethodNotAllowedError) return 405;
  if (err instanceof PayloadTooLargeError) return 413;
  if (err instanceof UnsupportedMediaTypeError) return 415;
  if (err instanceof RateLimitedError) return 429;
  if (err instanceof UnavailableError) return 503;
  return 500;
}

/** Programming errors: the only ones answered 500. */
const isBug = (err: unknown) =>
  err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;

/**
 * The one mapper from errors to problem+json. Anything else thrown while serving a request comes
 * from a dependency (database, cache, broker) and is a 503 `unavailable` the client may retry;
 * only programming errors are 500 `internal`. Both are logged by the caller.
 */
export function sendError(
  res: Response,
  err: unknown,
  requestId: string,
): { status: number; unexpected: boolean } {
  if (err instanceof AppError) {
    const status = statusOf(err);
    if (err instanceof RateLimitedError || err instanceof UnavailableError) {
      res.setHeader('Retry-After', String(err.retryAfterSec));
    }
    const ext: Record<string, unknown> = { requestId };
    if (err instanceof ValidationError && err.issues.length) ext.issues = err.issues;
    sendProblem(res, status, err.code, err.message, ext);
    return { status, unexpected: false };
  }
  if (isBug(err)) {
    sendProblem(res, 500, 'internal', 'unexpected error; it has been logged', { requestId });
    return { status: 500, unexpected: true };
  }
  res.setHeader('Retry-After', '1');
  sendProblem(res, 503, 'unavailable', 'a dependency did not answer; retry shortly', { requestId });
  return { status: 503, unexpected: true };
}
