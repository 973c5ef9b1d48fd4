// problem+json (RFC 9457): the one mapper from errors to answers, and the raw form the server's
// clientError handler writes on a socket that never became a request.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type ServerResponse } from 'node:http';
import {
  AppError,
  ERROR_CODES,
  RateLimitedError,
  UnavailableError,
  ValidationError,
  type ErrorCode,
} from '../../errors.js';

export const PROBLEM_BASE = 'https://flashsale.dev/problems/';

/** The problem document of `code`. Extensions (reservationId, issues, ...) go next to the members. */
export function problemBody(
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
): { status: number; body: string } {
  const { status, title } = ERROR_CODES[code];
  return {
    status,
    body: JSON.stringify({ type: PROBLEM_BASE + code, title, status, detail, code, ...extensions }),
  };
}

/**
 * Writes a whole JSON answer in one go: status, type, length and body (Node leaves the body out
 * of an answer to HEAD). Plain Node calls, so the Express routes and the hot reservation route
 * (hot-route.ts) answer byte for byte alike.
 */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  type = 'application/json',
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', `${type}; charset=utf-8`);
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}

/** Writes an RFC 9457 problem with the status of its code. */
export function sendProblem(
  res: ServerResponse,
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
): void {
  const p = problemBody(code, detail, extensions);
  sendJson(res, p.status, p.body, 'application/problem+json');
}

/**
 * A whole HTTP/1.1 response carrying a problem, for a socket whose request Node's parser refused
 * (there is no request or response object then). The connection is closed after it.
 */
export function rawProblem(code: ErrorCode, detail: string): string {
  const requestId = randomUUID();
  const p = problemBody(code, detail, { requestId });
  return [
    `HTTP/1.1 ${p.status} ${STATUS_CODES[p.status] ?? 'Error'}`,
    'Content-Type: application/problem+json',
    `Content-Length: ${Buffer.byteLength(p.body)}`,
    `X-Request-Id: ${requestId}`,
    'Connection: close',
    '',
    p.body,
  ].join('\r\n');
}

/** Programming errors: the only ones answered 500. */
const isBug = (err: unknown) =>
  err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError;

/** The code of a framework error that carries a 4xx status (a malformed path, say). */
const CLIENT_CODES: Partial<Record<number, ErrorCode>> = {
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  417: 'expectation_failed',
  431: 'headers_too_large',
};
const clientCode = (status: number): ErrorCode => CLIENT_CODES[status] ?? 'invalid_request';

/** What sendError answered, for the request's one log line. */
export interface Sent {
  status: number;
  code: ErrorCode;
  /** Not the client's doing: log it with its cause. */
  unexpected: boolean;
}

/**
 * The one mapper from errors to problem+json. AppErrors carry their code; an error from the
 * framework with a 4xx status (malformed path encoding, ...) is the client's mistake and keeps a
 * 4xx; a programming error is 500 `internal`; anything else comes from a dependency that an
 * adapter did not wrap, and is a 503 `unavailable` the client may retry.
 */
export function sendError(res: ServerResponse, err: unknown, requestId: string): Sent {
  if (err instanceof AppError) {
    if (err instanceof RateLimitedError || err instanceof UnavailableError) {
      res.setHeader('Retry-After', String(err.retryAfterSec));
    }
    const ext: Record<string, unknown> = { requestId };
    if (err instanceof ValidationError && err.issues.length) ext.issues = err.issues;
    sendProblem(res, err.code, err.message, ext);
    return { status: err.httpStatus, code: err.code, unexpected: err.httpStatus >= 500 };
  }
  const status = (err as { status?: unknown; statusCode?: unknown } | null)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = clientCode(status);
    sendProblem(res, code, 'the request is malformed', { requestId });
    return { status: ERROR_CODES[code].status, code, unexpected: false };
  }
  if (isBug(err)) {
    sendProblem(res, 'internal', 'unexpected error; it has been logged', { requestId });
    return { status: 500, code: 'internal', unexpected: true };
  }
  res.setHeader('Retry-After', '1');
  sendProblem(res, 'unavailable', 'a dependency did not answer; retry shortly', { requestId });
  return { status: 503, code: 'unavailable', unexpected: true };
}
