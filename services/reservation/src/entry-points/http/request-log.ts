// One request's bookkeeping, the same for the Express routes and the hot reservation route: its
// id (taken from X-Request-Id when well formed), its metrics, and its one log line when it ends.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runInRequest } from '../../context.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { Sent } from './problem.js';

/** Longest URL the routes read; every route's URL is far shorter. */
export const MAX_URL_LENGTH = 2048;

interface RequestState {
  requestId: string;
  /** Set by the error mapper: what was answered and why, for the request's one log line. */
  failure?: { sent: Sent; err: unknown };
}

const states = new WeakMap<ServerResponse, RequestState>();

/** The id of the request `res` answers. */
export const requestIdOf = (res: ServerResponse): string => states.get(res)?.requestId ?? 'unknown';

/** Notes what the error mapper answered, so the request's log line carries it with its cause. */
export function noteFailure(res: ServerResponse, sent: Sent, err: unknown): void {
  const s = states.get(res);
  if (s) s.failure = { sent, err };
}

/**
 * Starts tracking a request and returns its id. `route` names the route template when the answer
 * is finished (Express knows it only after routing). The metric children are kept per label set:
 * prom-client would otherwise hash the label object twice per request.
 */
export function requestTracker(
  log: Logger,
  metrics: Pick<Metrics, 'httpRequests' | 'httpDuration'>,
) {
  type Children = [
    ReturnType<Metrics['httpRequests']['labels']>,
    ReturnType<Metrics['httpDuration']['labels']>,
  ];
  const children = new Map<string, Children>();
  const child = (route: string, method: string, status: string): Children => {
    const key = `${route} ${method} ${status}`;
    let c = children.get(key);
    if (!c) {
      c = [
        metrics.httpRequests.labels(route, method, status),
        metrics.httpDuration.labels(route, method, status),
      ];
      children.set(key, c);
    }
    return c;
  };

  return (req: IncomingMessage, res: ServerResponse, route: () => string): string => {
    const incoming = req.headers['x-request-id'];
    const requestId =
      typeof incoming === 'string' && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    const state: RequestState = { requestId };
    states.set(res, state);
    const url = req.url ?? '';
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const method = req.method ?? 'GET';
      const [count, duration] = child(route(), method, String(res.statusCode));
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      count.inc();
      duration.observe(sec);
      // Built only when it is written: most requests log nothing (debug is off in production).
      const line = () => ({
        method,
        url: url.slice(0, MAX_URL_LENGTH),
        status: res.statusCode,
        ms: Math.round(sec * 1000),
      });
      const failure = state.failure;
      // A 5xx is logged once, here, with the error and its cause chain; the rest at debug.
      // 'finish' may fire outside the request's context: put the line back in it.
      if (res.statusCode >= 500 && failure?.sent.unexpected) {
        const level = res.statusCode === 503 ? 'warn' : 'error';
        runInRequest({ requestId }, () =>
          log[level]({ ...line(), code: failure.sent.code, err: failure.err }, 'request failed'),
        );
      } else if (res.statusCode >= 500) {
        runInRequest({ requestId }, () => log.info(line(), 'request'));
      } else if (log.isLevelEnabled('debug')) {
        runInRequest({ requestId }, () => log.debug(line(), 'request'));
      }
    });
    return requestId;
  };
}
