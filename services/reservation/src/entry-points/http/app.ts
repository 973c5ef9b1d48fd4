// HTTP entry point: thin routes that validate, call a use case and map its outcome to a status.
import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../config.js';
import { runInRequest } from '../../context.js';
import type { Events, Audit } from '../../domain/events.js';
import type { EventView, ReservationRecord } from '../../domain/model.js';
import type { Reservations } from '../../domain/reservations.js';
import {
  DependencyError,
  MethodNotAllowedError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UriTooLongError,
} from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { Readiness } from '../../readiness.js';
import { jsonBody } from './json-body.js';
import { openApiDocument } from './openapi.js';
import { sendError, sendProblem, type Sent } from './problem.js';
import { RateLimiter } from './rate-limit.js';
import {
  createEventBody,
  listQuery,
  parse,
  reservationBody,
  uuidParam,
  waitQuery,
} from './schemas.js';

export type { Readiness };

/** Longest URL the routes read; every route's URL is far shorter. */
const MAX_URL_LENGTH = 2048;

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  events: Events;
  reservations: Reservations | undefined;
  readiness: () => Promise<Readiness>;
}

interface Locals {
  requestId: string;
  /** Set by the error handler: what was answered and why, for the request's one log line. */
  failure?: { sent: Sent; err: unknown };
}

const locals = (res: Response) => res.locals as Locals;

const eventJson = (e: EventView) => ({
  id: e.id,
  name: e.name,
  capacity: e.capacity,
  sold: e.sold,
  remaining: e.remaining,
  state: e.state,
  saleStartsAt: e.saleStartsAt?.toISOString() ?? null,
  saleEndsAt: e.saleEndsAt?.toISOString() ?? null,
  createdAt: e.createdAt.toISOString(),
});

const reservationJson = (r: ReservationRecord) => ({
  reservationId: r.reservationId,
  eventId: r.eventId,
  // Unknown only for a rejection derived after Redis lost the request's record.
  ...(r.userId ? { userId: r.userId } : {}),
  status: r.status,
  ...(r.reason ? { reason: r.reason } : {}),
});

/** Paths the API serves, with their methods (for 405 and the request metric's route label). */
const ROUTES: Array<{ re: RegExp; methods: string[] }> = [
  { re: /^\/v1\/events$/, methods: ['GET', 'POST'] },
  { re: /^\/v1\/events\/[^/]+$/, methods: ['GET'] },
  { re: /^\/v1\/events\/[^/]+\/reservations$/, methods: ['POST'] },
  { re: /^\/v1\/events\/[^/]+\/audit$/, methods: ['GET'] },
  { re: /^\/v1\/reservations\/[^/]+$/, methods: ['GET'] },
  { re: /^\/(healthz|readyz|metrics|openapi\.json)$/, methods: ['GET'] },
];

export function createApp(d: AppDeps): express.Express {
  const { config, metrics } = d;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('etag', false);
  const ipLimiter = new RateLimiter(config.RATE_LIMIT_IP_PER_SEC, config.RATE_LIMIT_IP_BURST);
  const userLimiter = new RateLimiter(config.RATE_LIMIT_USER_PER_SEC, config.RATE_LIMIT_USER_BURST);

  // Request id, metrics and one log line per request. Everything the request runs — the use
  // cases included — runs inside its context, so their log lines carry the request id too.
  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals.requestId = requestId;
    const t0 = process.hrtime.bigint();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      const labels = { route, method: req.method, status: String(res.statusCode) };
      const sec = Number(process.hrtime.bigint() - t0) / 1e9;
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, sec);
      const line = {
        method: req.method,
        url: req.originalUrl.slice(0, MAX_URL_LENGTH),
        status: res.statusCode,
        ms: Math.round(sec * 1000),
      };
      // A 5xx is logged once, here, with the error and its cause chain; the rest at debug.
      // 'finish' may fire outside the request's context: put the line back in it.
      const failure = locals(res).failure;
      runInRequest({ requestId }, () => {
        if (res.statusCode >= 500 && failure?.sent.unexpected) {
          const level = res.statusCode === 503 ? 'warn' : 'error';
          d.log[level]({ ...line, code: failure.sent.code, err: failure.err }, 'request failed');
        } else if (res.statusCode >= 500) d.log.info(line, 'request');
        else d.log.debug(line, 'request');
      });
    });
    runInRequest({ requestId }, next);
  });

  app.use((req, _res, next) => {
    if (req.originalUrl.length > MAX_URL_LENGTH) {
      next(new UriTooLongError(`the URL is longer than ${MAX_URL_LENGTH} characters`));
      return;
    }
    next();
  });

  app.use((req, _res, next) => {
    const known = ROUTES.find((r) => r.re.test(req.path));
    if (
      known &&
      !known.methods.includes(req.method) &&
      !(req.method === 'HEAD' && known.methods.includes('GET'))
    ) {
      _res.setHeader('Allow', known.methods.join(', '));
      next(new MethodNotAllowedError(`${req.method} is not allowed here`));
      return;
    }
    next();
  });

  app.use('/v1', (req, _res, next) => {
    const wait = ipLimiter.take(req.ip ?? 'unknown');
    if (wait) next(new RateLimitedError('too many requests from this address', wait));
    else next();
  });

  // Bodies: JSON only, small, no repeated keys; any failure to read one is a 4xx.
  const body = jsonBody(config.BODY_LIMIT_BYTES);
  // Built once: constructing a zod schema per request was ~5 % of the service's CPU (cpu profile).
  const waitSchema = waitQuery(config.WAIT_MAX_MS);

  const admin = (req: Request, _res: Response, next: NextFunction) => {
    const h = req.get('authorization') ?? '';
    const token = /^Bearer (.+)$/.exec(h)?.[1];
    if (!config.ADMIN_TOKEN || token !== config.ADMIN_TOKEN) {
      next(new UnauthorizedError('admin calls need Authorization: Bearer <ADMIN_TOKEN>'));
      return;
    }
    next();
  };

  app.post('/v1/events', admin, body, async (req, res) => {
    const input = parse(createEventBody(Date.now()), req.body, 'body');
    const e = await d.events.create({
      name: input.name,
      capacity: input.capacity,
      saleStartsAt: input.saleStartsAt ?? null,
      saleEndsAt: input.saleEndsAt ?? null,
    });
    res.status(201).location(`/v1/events/${e.id}`).json(eventJson(e));
  });

  app.get('/v1/events', async (req, res) => {
    const q = parse(listQuery, req.query, 'query');
    const list = await d.events.list(q.limit ?? 100);
    res.json({ events: list.map(eventJson) });
  });

  app.get('/v1/events/:id', async (req, res) => {
    const id = parse(uuidParam, req.params.id, 'id');
    res.json(eventJson(await d.events.get(id)));
  });

  app.get('/v1/events/:id/audit', admin, async (req, res) => {
    const id = parse(uuidParam, req.params.id, 'id');
    const a: Audit = await d.events.audit(id);
    res.json(a);
  });

  app.post('/v1/events/:id/reservations', body, async (req, res) => {
    const reservations = d.reservations;
    if (!reservations) throw new NotFoundError('not_found', 'this process does not serve the API');
    const eventId = parse(uuidParam, req.params.id, 'id');
    const q = parse(waitSchema, req.query, 'query');
    const { userId } = parse(reservationBody, req.body, 'body');
    const wait = userLimiter.take(userId);
    if (wait) throw new RateLimitedError('too many attempts for this user', wait);
    const t0 = process.hrtime.bigint();
    const out = await reservations.reserve(eventId, userId, q.wait ?? 0).catch((err: unknown) => {
      if (err instanceof DependencyError && err.dependency === 'nats')
        metrics.publishFailures.inc();
      throw err;
    });
    metrics.fastPath.inc({ outcome: out.kind });
    switch (out.kind) {
      case 'pending':
        metrics.acceptDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        res
          .status(202)
          .location(`/v1/reservations/${out.record.reservationId}`)
          .json(reservationJson(out.record));
        return;
      case 'confirmed':
        res
          .status(201)
          .location(`/v1/reservations/${out.record.reservationId}`)
          .json(reservationJson(out.record));
        return;
      case 'already_reserved':
        sendProblem(res, 'already_reserved', 'this user already holds a ticket for this event', {
          reservationId: out.record.reservationId,
          reservationStatus: 'confirmed',
          requestId: locals(res).requestId,
        });
        return;
      case 'sold_out':
        sendProblem(res, 'sold_out', 'every ticket of this event is sold', {
          ...(out.record
            ? { reservationId: out.record.reservationId, reservationStatus: 'rejected' }
            : {}),
          requestId: locals(res).requestId,
        });
        return;
      case 'sale_not_open':
        sendProblem(res, 'sale_not_open', `the sale opens at ${out.startsAt.toISOString()}`, {
          saleStartsAt: out.startsAt.toISOString(),
          requestId: locals(res).requestId,
        });
        return;
      case 'sale_closed':
        sendProblem(res, 'sale_closed', `the sale ended at ${out.endedAt.toISOString()}`, {
          saleEndsAt: out.endedAt.toISOString(),
          requestId: locals(res).requestId,
        });
        return;
    }
  });

  app.get('/v1/reservations/:id', async (req, res) => {
    const reservations = d.reservations;
    if (!reservations) throw new NotFoundError('not_found', 'this process does not serve the API');
    const id = parse(uuidParam, req.params.id, 'id');
    res.json(reservationJson(await reservations.status(id)));
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/readyz', async (_req, res) => {
    const r = await d.readiness();
    res
      .status(r.ready ? 200 : 503)
      .json({ status: r.ready ? 'ready' : 'not_ready', checks: r.checks });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument);
  });

  app.use((req, _res, next) => {
    next(new NotFoundError('not_found', `nothing at ${req.method} ${req.path}`));
  });

  // Express 5 forwards rejected promises from handlers here. The answer is logged by the
  // request's 'finish' line above (once).
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const l = locals(res);
    const sent = sendError(res, err, l.requestId);
    l.failure = { sent, err };
  });

  return app;
}
