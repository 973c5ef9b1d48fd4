// Wiring only: config → clients → collector → app; start() returns the port and stop().
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { ConfigError, helpText, loadConfig, type Config } from './config.js';
import { isMain } from './is-main.js';
import { LiveCollector } from './live.js';
import { K6JobLoadTests, type LoadTests } from './loadtest.js';
import { createLogger } from './logger.js';
import { Metrics } from './metrics.js';
import { Kube, loadKubeConfig, type AutoscalerResource } from './upstreams/kubernetes.js';
import { Prometheus } from './upstreams/prometheus.js';
import { ReservationClient } from './upstreams/reservation.js';

export interface Dashboard {
  port: number;
  stop(): Promise<void>;
}

/** Where the built page lives when STATIC_DIR is empty: dist/public beside dist/main.js. */
const defaultStaticDir = fileURLToPath(new URL('./public', import.meta.url));

/** Starts the dashboard backend. Overrides replace settings (tests); env is read otherwise. */
export async function start(
  overrides: Partial<Config> = {},
  env: Record<string, string | undefined> = process.env,
  opts: { loadTests?: LoadTests; autoscalerResource?: AutoscalerResource } = {},
): Promise<Dashboard> {
  const config = loadConfig(env, overrides);
  const log = createLogger(config.LOG_LEVEL);
  const metrics = new Metrics();
  const kc = loadKubeConfig({
    kubeconfig: config.KUBECONFIG,
    inCluster: config.KUBERNETES_SERVICE_HOST !== '',
  });
  const kube = new Kube(kc, config.NAMESPACE, config.KUBE_TIMEOUT_MS, opts.autoscalerResource);
  const prom = new Prometheus({
    url: config.PROMETHEUS_URL,
    bearerToken: config.PROMETHEUS_BEARER_TOKEN,
    timeoutMs: config.PROMETHEUS_TIMEOUT_MS,
  });
  const reservation = new ReservationClient(
    config.RESERVATION_URL,
    config.ADMIN_TOKEN,
    config.RESERVATION_TIMEOUT_MS,
  );
  const loadTests =
    opts.loadTests ??
    new K6JobLoadTests(kube, {
      namespace: config.NAMESPACE,
      image: config.K6_IMAGE,
      configMap: config.K6_SCRIPT_CONFIGMAP,
      scriptKey: config.K6_SCRIPT_KEY,
      targetUrl: config.K6_TARGET_URL || config.RESERVATION_URL,
    });
  const live = new LiveCollector({
    kube,
    prom,
    reservation,
    loadTests,
    log,
    metrics,
    namespace: config.NAMESPACE,
    reservationDeployment: config.RESERVATION_DEPLOYMENT,
    salesLimit: config.SALES_LIMIT,
    adminEnabled: config.ADMIN_TOKEN !== '',
    intervalMs: config.STREAM_INTERVAL_MS,
  });
  const app = createApp({
    config,
    log,
    metrics,
    live,
    prom,
    reservation,
    loadTests,
    staticDir: config.STATIC_DIR || defaultStaticDir,
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.PORT, config.HOST, (err?: Error) =>
      err ? reject(err) : resolve(s),
    );
  });
  const port = (server.address() as AddressInfo).port;
  live.start();
  log.info(
    {
      port,
      namespace: config.NAMESPACE,
      prometheus: prom.url('').origin + prom.url('').pathname,
      reservation: config.RESERVATION_URL,
      kubernetes: kc.getCurrentCluster()?.server,
    },
    `dashboard listening on port ${port}`,
  );
  let stopped: Promise<void> | undefined;
  return {
    port,
    stop: () =>
      (stopped ??= (async () => {
        log.info('stopping');
        await live.stop();
        // SSE streams never end by themselves: close them with the server.
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      })()),
  };
}

if (isMain(import.meta.url)) {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  start().then(
    (d) => {
      const shutdown = () => {
        void d.stop().then(() => process.exit(0));
      };
      process.once('SIGTERM', shutdown);
      process.once('SIGINT', shutdown);
    },
    (err: unknown) => {
      process.stderr.write(
        err instanceof ConfigError
          ? `${err.message}\n`
          : `dashboard failed to start: ${String(err)}\n`,
      );
      process.exit(1);
    },
  );
}
