// HTTP entry point: thin routes that validate, call a use case and map its outcome to a status.
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Config } from '../../config.js';
import { runInRequest } from '../../context.js';
import type { Events, Audit } from '../../domain/events.js';
import type { EventView } from '../../domain/model.js';
import type { Reservations } from '../../domain/reservations.js';
import {
  MethodNotAllowedError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
  UriTooLongError,
} from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Metrics } from '../../metrics.js';
import type { Readiness } from '../../readiness.js';
import { hotRoute } from './hot-route.js';
import { jsonBody } from './json-body.js';
import { openApiDocument } from './openapi.js';
import { sendError } from './problem.js';
import { RateLimiter } from './rate-limit.js';
import { MAX_URL_LENGTH, noteFailure, requestIdOf, requestTracker } from './request-log.js';
import { reservationJson, reserveRoute } from './reserve-route.js';
import { createEventBody, listQuery, parse, uuidParam } from './schemas.js';

export type { Readiness };

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  events: Events;
  reservations: Reservations | undefined;
  readiness: () => Promise<Readiness>;
}

/** What the HTTP server calls per request: the hot route when it takes it, Express otherwise. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

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

/** Paths the API serves, with their methods (for 405 and the request metric's route label). */
const ROUTES: Array<{ re: RegExp; methods: string[] }> = [
  { re: /^\/v1\/events$/, methods: ['GET', 'POST'] },
  { re: /^\/v1\/events\/[^/]+$/, methods: ['GET'] },
  { re: /^\/v1\/events\/[^/]+\/reservations$/, methods: ['POST'] },
  { re: /^\/v1\/events\/[^/]+\/audit$/, methods: ['GET'] },
  { re: /^\/v1\/reservations\/[^/]+$/, methods: ['GET'] },
  { re: /^\/(healthz|readyz|metrics|openapi\.json)$/, methods: ['GET'] },
];

export function createApp(d: AppDeps): RequestListener {
  const { config, metrics } = d;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.TRUST_PROXY);
  app.set('etag', false);
  const ipLimiter = new RateLimiter(config.RATE_LIMIT_IP_PER_SEC, config.RATE_LIMIT_IP_BURST);
  const userLimiter = new RateLimiter(config.RATE_LIMIT_USER_PER_SEC, config.RATE_LIMIT_USER_BURST);
  const track = requestTracker(d.log, metrics);
  const reserve = reserveRoute({
    metrics,
    reservations: d.reservations,
    userLimiter,
    waitMaxMs: config.WAIT_MAX_MS,
  });

  // Request id, metrics and one log line per request. Everything the request runs — the use
  // cases included — runs inside its context, so their log lines carry the request id too.
  app.use((req, res, next) => {
    const requestId = track(
      req,
      res,
      () => (req.route as { path?: string } | undefined)?.path ?? 'unmatched',
    );
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
    await reserve(req.params.id, req.query, req.body, res);
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
    noteFailure(res, sendError(res, err, requestIdOf(res)), err);
  });

  const hot = hotRoute({
    track,
    ipLimiter,
    route: reserve,
    bodyLimitBytes: config.BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
  });
  return (req, res) => {
    if (!hot(req, res)) app(req, res);
  };
}
