// HTTP entry point: thin, typed routes that validate, call the collector or an upstream client and
// map failures to problem+json. The browser talks only to these routes.
import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { CreateSaleRequest, LaunchLoadTestRequest, LiveState } from './api-types.js';
import type { Config } from './config.js';
import { HttpProblem, ProblemCode } from './errors.js';
import type { LiveCollector } from './live.js';
import type { LoadTests } from './loadtest.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { traffic, trafficQueries } from './traffic.js';
import { UpstreamCode, UpstreamError } from './upstreams/errors.js';
import type { Prometheus } from './upstreams/prometheus.js';
import type { ReservationClient } from './upstreams/reservation.js';

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  live: LiveCollector;
  prom: Prometheus;
  reservation: ReservationClient;
  loadTests: LoadTests;
  /** Folder of the built page, if any. */
  staticDir: string | undefined;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new HttpProblem(
    400,
    ProblemCode.InvalidRequest,
    'Invalid request',
    `the ${where} is not valid`,
    r.error.issues.map((i) => ({ path: [where, ...i.path].join('.'), message: i.message })),
  );
}

const trafficQuery = z.object({
  minutes: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
});

const createSaleBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    capacity: z.number().int().min(1).max(10_000_000),
    saleStartsAt: z.iso.datetime({ offset: true }).optional(),
    saleEndsAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

const launchBody = (maxVus: number, maxDuration: number) =>
  z
    .object({
      eventId: z.uuid(),
      vus: z.number().int().min(1).max(maxVus),
      durationSeconds: z.number().int().min(5).max(maxDuration),
    })
    .strict();

/** An upstream failure seen by an admin action, as the problem the page shows. */
function upstreamProblem(err: UpstreamError): HttpProblem {
  if (err.code === UpstreamCode.NotConfigured)
    return new HttpProblem(403, ProblemCode.AdminDisabled, 'Admin actions are off', err.message);
  if (err.status !== undefined && err.status >= 400 && err.status < 500)
    return new HttpProblem(
      422,
      ProblemCode.UpstreamRejected,
      `The ${err.source} refused`,
      err.message,
      undefined,
      {
        cause: err,
      },
    );
  return new HttpProblem(
    503,
    ProblemCode.UpstreamUnavailable,
    `The ${err.source} is unavailable`,
    err.message,
    undefined,
    {
      cause: err,
    },
  );
}

/** Builds the Express app (no listening). */
export function createApp(d: AppDeps): express.Express {
  const { config, metrics, log } = d;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const t0 = Date.now();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      metrics.httpRequests.inc({ route, method: req.method, status: String(res.statusCode) });
      const line = {
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        ms: Date.now() - t0,
      };
      if (res.statusCode >= 500) log.info(line, 'request');
      else log.debug(line, 'request');
    });
    next();
  });
  // Headers that make the page safe to serve on its own (no framing, no sniffing).
  app.use((_req, res, next) => {
    res.set({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'content-security-policy':
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
    });
    next();
  });

  const jsonBody = express.json({ limit: '4kb', type: () => true });
  const admin = (req: Request, _res: Response, next: NextFunction) => {
    if (!config.ADMIN_TOKEN)
      throw new HttpProblem(
        403,
        ProblemCode.AdminDisabled,
        'Admin actions are off',
        'the dashboard has no admin token',
      );
    const given = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(config.ADMIN_TOKEN);
    if (a.length !== b.length || !timingSafeEqual(a, b))
      throw new HttpProblem(
        401,
        ProblemCode.Unauthorized,
        'Unauthorized',
        'a valid admin bearer token is required',
      );
    next();
  };

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/api/state', async (_req, res) => {
    res.json(await d.live.current());
  });

  app.get('/api/overview', async (_req, res) => {
    const s = await d.live.current();
    res.json({
      at: s.at,
      namespace: s.namespace,
      health: s.health,
      deployments: s.deployments,
      pods: s.pods,
    });
  });

  app.get('/api/events', async (_req, res) => {
    const s = await d.live.current();
    res.json({ at: s.at, feed: s.feed, autoscaler: s.autoscaler, replicas: s.replicas });
  });

  app.get('/api/inventory', async (_req, res) => {
    const s = await d.live.current();
    res.json({ at: s.at, sales: s.sales });
  });

  app.get('/api/traffic', async (req, res) => {
    const q = parse(trafficQuery, req.query, 'query');
    res.json(
      await traffic(
        d.prom,
        trafficQueries(config.PROMETHEUS_SELECTOR, config.PROMETHEUS_POD_LABEL),
        q.minutes,
      ),
    );
  });

  app.get('/api/stream', (req, res) => {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (kubectl port-forward is not one, an ingress may be) must not buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${config.STREAM_INTERVAL_MS}\n\n`);
    const send = (s: LiveState) => res.write(`event: state\ndata: ${JSON.stringify(s)}\n\n`);
    const unsubscribe = d.live.subscribe(send);
    void d.live.current().then(send, () => undefined);
    req.on('close', unsubscribe);
  });

  app.post('/api/sales', admin, jsonBody, async (req, res) => {
    const body: CreateSaleRequest = parse(createSaleBody, req.body, 'body');
    try {
      res.status(201).json(await d.reservation.createEvent(body));
    } catch (err) {
      if (err instanceof UpstreamError) throw upstreamProblem(err);
      throw err;
    }
    void d.live.collect().catch(() => undefined);
  });

  app.get('/api/loadtests', async (_req, res) => {
    const s = await d.live.current();
    res.json({ at: s.at, loadTests: s.loadTests });
  });

  app.post('/api/loadtests', admin, jsonBody, async (req, res) => {
    const body: LaunchLoadTestRequest = parse(
      launchBody(config.K6_MAX_VUS, config.K6_MAX_DURATION_S),
      req.body,
      'body',
    );
    try {
      const run = await d.loadTests.launch(body);
      metrics.loadTestsLaunched.inc();
      log.info({ job: run.name, ...body }, 'load test launched');
      res.status(201).json(run);
    } catch (err) {
      if (err instanceof UpstreamError) throw upstreamProblem(err);
      throw err;
    }
    void d.live.collect().catch(() => undefined);
  });

  app.all('/api/{*rest}', () => {
    throw new HttpProblem(404, ProblemCode.NotFound, 'Not found', 'no such API route');
  });

  if (d.staticDir && existsSync(join(d.staticDir, 'index.html'))) {
    const dir = d.staticDir;
    app.use(express.static(dir, { index: false, maxAge: '1h' }));
    app.get('/{*page}', (_req, res) => {
      res.set('cache-control', 'no-cache').sendFile(join(dir, 'index.html'));
    });
  }

  // Body-parser errors carry status/type; anything else unexpected is a 500 logged once with its cause.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let problem: HttpProblem;
    if (err instanceof HttpProblem) problem = err;
    else if (err instanceof UpstreamError) problem = upstreamProblem(err);
    else {
      const e = err as { status?: number; type?: string; message?: string };
      if (e?.status && e.status >= 400 && e.status < 500)
        problem = new HttpProblem(
          e.status,
          ProblemCode.InvalidRequest,
          'Invalid request',
          e.type === 'entity.parse.failed'
            ? 'the body is not valid JSON'
            : (e.message ?? 'bad request'),
        );
      else
        problem = new HttpProblem(
          500,
          ProblemCode.Internal,
          'Internal error',
          'unexpected error',
          undefined,
          { cause: err },
        );
    }
    if (problem.status >= 500) log.error({ err, url: req.originalUrl }, problem.message);
    if (res.headersSent) return;
    res
      .status(problem.status)
      .type('application/problem+json')
      .send(JSON.stringify(problem.toProblem()));
  });
  return app;
}
