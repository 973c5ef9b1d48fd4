// The backend's own errors and their problem+json codes. One const object of codes, used by the
// error classes, the mapper and the README.
import type { Problem } from './api-types.js';

export const ProblemCode = {
  InvalidRequest: 'invalid_request',
  Unauthorized: 'unauthorized',
  AdminDisabled: 'admin_disabled',
  NotFound: 'not_found',
  UpstreamUnavailable: 'upstream_unavailable',
  UpstreamRejected: 'upstream_rejected',
  Internal: 'internal',
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

/** An error with an HTTP status and a stable code: the mapper turns it into problem+json. */
export class HttpProblem extends Error {
  override readonly name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    readonly title: string,
    detail: string,
    readonly errors?: Problem['errors'],
    options?: { cause?: unknown },
  ) {
    super(detail, options);
  }

  toProblem(): Problem {
    return {
      type: `https://flashsale.dev/problems/${this.code}`,
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(this.errors ? { errors: this.errors } : {}),
    };
  }
}
