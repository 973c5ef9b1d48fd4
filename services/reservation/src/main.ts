// Wiring only: builds the adapters, use cases and entry points from the config, and exposes
// start()/stop(). `node dist/main.js` runs start() and stops gracefully on SIGTERM/SIGINT.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  connectNats,
  ensureStreamAndConsumer,
  jetstreamManager,
  JetStreamQueue,
  NatsDecisionBus,
  NatsDecisionWaiter,
  type JetStreamSettings,
} from './adapters/nats.js';
import { createPool, PgEventStore } from './adapters/postgres.js';
import { createRedis, RedisAdmission } from './adapters/redis.js';
import { loadConfig, type Config } from './config.js';
import { Catalog } from './domain/catalog.js';
import { Decider } from './domain/decide.js';
import { Events } from './domain/events.js';
import { Reconciler } from './domain/reconciler.js';
import { Reservations } from './domain/reservations.js';
import { createApp, type Readiness } from './http/app.js';
import { isMain } from './is-main.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { Worker } from './worker.js';

export interface Service {
  /** The port the HTTP server is bound to (useful with PORT=0). */
  port: number;
  config: Config;
  metrics: Metrics;
  /** Graceful stop: stop accepting, finish in-flight requests and the batch in hand, close. */
  stop(): Promise<void>;
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);

/** Starts the service with the environment's config, overridden by `overrides` (tests). */
export async function start(overrides: Partial<Config> = {}): Promise<Service> {
  const config = loadConfig(undefined, overrides);
  const log = createLogger(config.LOG_LEVEL);
  const metrics = new Metrics();
  const api = config.ROLE !== 'worker';
  const worker = config.ROLE !== 'api';

  const pool = createPool(config.DATABASE_URL, config.DATABASE_POOL_SIZE);
  const store = new PgEventStore(pool);
  const redis = createRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX);
  await redis.connect().catch((err: unknown) => log.warn({ err }, 'redis not reachable yet'));
  const admission = new RedisAdmission(redis, config.RESERVATION_TTL_SEC);

  const nc = await connectNats(config.NATS_URL, `reservation-${config.ROLE}`, log);
  const jsm = await jetstreamManager(nc);
  const settings: JetStreamSettings = {
    stream: config.STREAM_NAME,
    subjectPrefix: config.SUBJECT_PREFIX,
    consumer: config.CONSUMER_NAME,
    maxMessages: config.STREAM_MAX_MESSAGES,
    replicas: config.STREAM_REPLICAS,
    duplicateWindowMs: config.STREAM_DUPLICATE_WINDOW_MS,
    ackWaitMs: config.ACK_WAIT_MS,
    maxAckPending: config.MAX_ACK_PENDING,
    publishTimeoutMs: config.PUBLISH_TIMEOUT_MS,
  };
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureStreamAndConsumer(jsm, settings);
      break;
    } catch (err) {
      if (attempt >= 30)
        throw new Error('could not create the JetStream stream and consumer', { cause: err });
      log.warn({ err, attempt }, 'jetstream not ready; retrying');
      await sleep(1000);
    }
  }

  const catalog = new Catalog(store, {
    missTtlMs: config.EVENT_CACHE_MISS_MS,
    notFullTtlMs: config.SOLD_OUT_CHECK_MS,
  });
  const queue = new JetStreamQueue(nc, jsm, settings);
  const bus = new NatsDecisionBus(nc, config.SUBJECT_PREFIX);
  const reconciler = new Reconciler({
    store,
    admission,
    metrics,
    log,
    intervalMs: config.RECONCILE_INTERVAL_MS,
    graceMs: config.RECONCILE_GRACE_MS,
  });
  const events = new Events({
    store,
    admission,
    queue,
    catalog,
    log,
    reconcileGraceMs: config.RECONCILE_GRACE_MS,
  });

  let waiter: NatsDecisionWaiter | undefined;
  let reservations: Reservations | undefined;
  if (api) {
    waiter = new NatsDecisionWaiter(nc, config.SUBJECT_PREFIX, admission, log);
    waiter.start();
    reservations = new Reservations({ catalog, store, admission, queue, waiter, log });
  }

  let consumerWorker: Worker | undefined;
  if (worker) {
    const decider = new Decider({
      catalog,
      store,
      admission,
      log,
      kick: (id) => reconciler.kick(id),
      rebuild: async (id) => {
        await reconciler.reconcile(id);
      },
    });
    consumerWorker = new Worker({
      nc,
      jsm,
      settings,
      batchSize: config.BATCH_SIZE,
      nakDelayMs: config.NAK_DELAY_MS,
      decider,
      admission,
      bus,
      reconciler,
      metrics,
      log,
    });
    consumerWorker.start();
    reconciler.start();
  }

  let stopping = false;
  const readiness = async (): Promise<Readiness> => {
    const check = async (name: string, f: () => Promise<unknown>) => {
      const ok = await within(f(), 1500).then(
        () => true,
        () => false,
      );
      metrics.dependencyUp.set({ dependency: name }, ok ? 1 : 0);
      return [name, ok] as const;
    };
    const checks = Object.fromEntries(
      await Promise.all([
        check('postgres', () => store.ping()),
        check('redis', () => admission.ping()),
        check('nats', () => nc.flush()),
      ]),
    ) as Record<string, boolean>;
    if (consumerWorker) checks.consumer = consumerWorker.ready;
    if (stopping) checks.accepting = false;
    return { ready: Object.values(checks).every(Boolean), checks };
  };
  const healthTimer = setInterval(() => void readiness(), 5000);
  healthTimer.unref();

  const app = createApp({ config, log, metrics, events, reservations, readiness });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.PORT, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const port = (server.address() as AddressInfo).port;
  log.info(
    { port, role: config.ROLE, stream: config.STREAM_NAME, consumer: config.CONSUMER_NAME },
    `reservation service listening on port ${port}`,
  );

  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      stopping = true;
      log.info('stopping: no new connections, finishing in-flight work');
      clearInterval(healthTimer);
      const closed = new Promise<void>((r) => server.close(() => r()));
      // Keep-alive connections close as soon as their last response is out.
      const idle = setInterval(() => server.closeIdleConnections(), 100);
      server.closeIdleConnections();
      // Waiting clients get their "still pending" answer now rather than at their deadline.
      waiter?.stop();
      const force = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_TIMEOUT_MS);
      await Promise.all([closed, consumerWorker?.stop()]);
      clearTimeout(force);
      clearInterval(idle);
      reconciler.stop();
      await nc.drain().catch(() => undefined);
      await redis.quit().catch(() => redis.disconnect());
      await pool.end().catch(() => undefined);
      log.info('stopped');
    })());

  return { port, config, metrics, stop };
}

if (isMain(import.meta.url)) {
  start().then(
    (svc) => {
      for (const sig of ['SIGTERM', 'SIGINT'] as const) {
        process.once(sig, () => {
          svc.stop().then(
            () => process.exit(0),
            () => process.exit(1),
          );
        });
      }
    },
    (err: unknown) => {
      // Config errors carry their own clear message; print it plainly too.
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
