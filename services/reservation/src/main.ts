// Wiring only: builds the adapters, use cases and entry points from the config, and exposes
// start()/stop(). `node dist/main.js` runs start() and stops gracefully on SIGTERM/SIGINT;
// `--help` prints the configuration table, `--config-markdown` the README's copy of it.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import { JetStreamBatches } from './adapters/jetstream-consumer.js';
import {
  connectNats,
  ensureStreamAndConsumerWithRetry,
  jetstreamManager,
  JetStreamQueue,
  NatsDecisionBus,
  NatsDecisionWaiter,
  type JetStreamSettings,
} from './adapters/nats.js';
import { createPool, PgEventStore } from './adapters/postgres.js';
import { createRedis, RedisAdmission } from './adapters/redis.js';
import { configMarkdown, helpText, loadConfig, secretValues, type Config } from './config.js';
import { Catalog } from './domain/catalog.js';
import { Decider } from './domain/decide.js';
import { Events } from './domain/events.js';
import { Reconciler } from './domain/reconciler.js';
import { Reservations } from './domain/reservations.js';
import { createApp } from './entry-points/http/app.js';
import { listen } from './entry-points/http/server.js';
import { Worker } from './entry-points/jetstream/worker.js';
import { isMain } from './is-main.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { readinessCheck, refreshEvery } from './readiness.js';
import { gracefulStop, stopOnSignals } from './shutdown.js';

export interface Service {
  /** The port the HTTP server is bound to (useful with PORT=0). */
  port: number;
  config: Config;
  metrics: Metrics;
  /** Graceful stop: stop accepting, finish in-flight requests and the batch in hand, close. */
  stop(): Promise<void>;
}

/** Options for tests; production runs with none. */
export interface StartOptions {
  /** Where log lines go instead of stdout. */
  logDestination?: DestinationStream;
}

/** Starts the service with the environment's config, overridden by `overrides` (tests). */
export async function start(
  overrides: Partial<Config> = {},
  options: StartOptions = {},
): Promise<Service> {
  const config = loadConfig(undefined, overrides);
  const log = createLogger(config.LOG_LEVEL, {
    secrets: secretValues(config),
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  // The effective settings, once: secrets are redacted by the logger (paths and values).
  log.info({ config }, 'configuration');
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
  await ensureStreamAndConsumerWithRetry(jsm, settings, log);

  const catalog = new Catalog(store, {
    missTtlMs: config.EVENT_CACHE_MISS_MS,
    notFullTtlMs: config.SOLD_OUT_CHECK_MS,
  });
  const queue = new JetStreamQueue(nc, jsm, settings);
  const reconciler = new Reconciler({
    store,
    admission,
    report: metrics.reconcileReport(),
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
      source: new JetStreamBatches(nc, jsm, settings, { batchSize: config.BATCH_SIZE, log }),
      nakDelayMs: config.NAK_DELAY_MS,
      decider,
      admission,
      bus: new NatsDecisionBus(nc, config.SUBJECT_PREFIX),
      reconciler,
      metrics,
      log,
    });
    consumerWorker.start();
    reconciler.start();
  }

  let stopping = false;
  const readiness = readinessCheck({
    dependencies: {
      postgres: () => store.ping(),
      redis: () => admission.ping(),
      nats: () => nc.flush(),
    },
    ...(consumerWorker ? { consumerReady: () => consumerWorker.ready } : {}),
    stopping: () => stopping,
    metrics,
  });
  const stopRefresh = refreshEvery(readiness, 5000);

  const app = createApp({ config, log, metrics, events, reservations, readiness });
  const server: Server = await listen(app, { port: config.PORT, log, metrics });
  const port = (server.address() as AddressInfo).port;
  log.info(
    { port, role: config.ROLE, stream: config.STREAM_NAME, consumer: config.CONSUMER_NAME },
    `reservation service listening on port ${port}`,
  );

  const stop = gracefulStop({
    server,
    log,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    beginStopping: () => {
      stopping = true;
    },
    releaseWaiters: () => waiter?.stop(),
    stopWorker: async () => consumerWorker?.stop(),
    stopTimers: () => {
      stopRefresh();
      reconciler.stop();
    },
    closers: [
      () => nc.drain(),
      () => redis.quit().catch(() => redis.disconnect()),
      () => pool.end(),
    ],
  });

  return { port, config, metrics, stop };
}

if (isMain(import.meta.url)) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  if (process.argv.includes('--config-markdown')) {
    // The README's configuration table, to paste when a setting changes.
    process.stdout.write(`${configMarkdown()}\n`);
    process.exit(0);
  }
  start().then(
    (svc) => stopOnSignals(svc.stop, svc.config.SHUTDOWN_TIMEOUT_MS),
    (err: unknown) => {
      // Config errors carry their own clear message; print it plainly too.
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
