// The hot route: POST /v1/events/:id/reservations in its common form, answered without Express's
// generic chain (router layers, body-parser, res.json), which cost about half of the service's
// per-request CPU beyond a bare Node server (docs/capacity.md, ADR 36). It runs the same steps in
// the same order — request id and log line, the per-address limit, a strict JSON body, the shared
// route — and answers byte for byte as the Express route does. Any request it does not take in
// full (another content encoding or charset, no Content-Length, a body over the limit, an encoded
// or odd path, a proxy to trust) goes to Express untouched, where every edge case is handled.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { runInRequest } from '../../context.js';
import { RateLimitedError, ValidationError } from '../../errors.js';
import { findDuplicateKey } from './json-body.js';
import { sendError } from './problem.js';
import type { RateLimiter } from './rate-limit.js';
import { MAX_URL_LENGTH, noteFailure, type requestTracker } from './request-log.js';
import type { ReserveRoute } from './reserve-route.js';

/** The route template, as Express labels it in the request metrics. */
export const HOT_ROUTE = '/v1/events/:id/reservations';

const PATH = /^\/v1\/events\/([0-9A-Za-z-]{1,64})\/reservations(?:\?(.*))?$/s;
const JSON_TYPE = /^application\/json\s*(?:;\s*charset\s*=\s*(?:utf-8|"utf-8")\s*)?$/i;

export interface HotRouteDeps {
  track: ReturnType<typeof requestTracker>;
  ipLimiter: RateLimiter;
  route: ReserveRoute;
  bodyLimitBytes: number;
  /** Client addresses come from X-Forwarded-For: left to Express's proxy handling. */
  trustProxy: boolean;
}

/** Takes the request and returns true when it is the hot route's; otherwise leaves it alone. */
export function hotRoute(d: HotRouteDeps): (req: IncomingMessage, res: ServerResponse) => boolean {
  const fromBody = (chunks: Buffer[]): unknown => {
    let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8');
    // A leading byte order mark is dropped, as body-parser's decoder does.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    // As express.json() with strict: an empty body reads as {}, and only an object or array is JSON here.
    if (text.length === 0) return {};
    const key = findDuplicateKey(text);
    if (key !== undefined) {
      throw new ValidationError(`the body repeats the key "${key}"`, [
        { path: `body.${key}`, message: 'appears more than once' },
      ]);
    }
    const first = /\S/.exec(text)?.[0];
    let body: unknown;
    try {
      if (first !== '{' && first !== '[') throw new SyntaxError('not an object or array');
      body = JSON.parse(text);
    } catch (err) {
      throw new ValidationError('the body is not valid JSON', [], { cause: err });
    }
    return body;
  };

  return (req, res) => {
    if (d.trustProxy || req.method !== 'POST') return false;
    const url = req.url ?? '';
    if (url.length > MAX_URL_LENGTH) return false;
    const m = PATH.exec(url);
    if (!m) return false;
    const h = req.headers;
    const length = h['content-length'];
    if (
      !length ||
      !/^\d{1,7}$/.test(length) ||
      Number(length) > d.bodyLimitBytes ||
      h['transfer-encoding'] !== undefined ||
      (h['content-encoding'] !== undefined && h['content-encoding'] !== 'identity') ||
      !JSON_TYPE.test(h['content-type'] ?? '')
    )
      return false;

    const requestId = d.track(req, res, () => HOT_ROUTE);
    const fail = (err: unknown) => {
      if (res.headersSent) return;
      noteFailure(res, sendError(res, err, requestId), err);
    };
    const wait = d.ipLimiter.take(req.socket.remoteAddress ?? 'unknown');
    if (wait) {
      // The body is not read: drop it, as Express does for an answer before the body.
      req.resume();
      fail(new RateLimitedError('too many requests from this address', wait));
      return true;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', (err) =>
      fail(
        new ValidationError(
          'the body could not be read: it was cut short or is not encoded as its Content-Encoding says',
          [],
          { cause: err },
        ),
      ),
    );
    req.on('end', () => {
      let body: unknown;
      try {
        body = fromBody(chunks);
      } catch (err) {
        fail(err);
        return;
      }
      // The body's events come from the socket, outside the request's context: back into it.
      runInRequest({ requestId }, () => {
        d.route(m[1], parseQuery(m[2] ?? ''), body, res).catch(fail);
      });
    });
    return true;
  };
}
