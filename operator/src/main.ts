// Wires the operator together: config, logger, metrics, the controller, leader election and the
// health/metrics server. start() returns once the cache is filled and the server listens.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { configHelp, loadConfig, ConfigError, type Config } from './config.js';
import { Controller } from './controller.js';
import { isMain } from './is-main.js';
import { LeaderElector } from './kube/leader.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics, type Metrics } from './metrics.js';

export interface StartOptions {
  config?: Config;
  /** A ready KubeConfig (tests: impersonation); default from KUBECONFIG or in-cluster. */
  kc?: KubeConfig;
  log?: Logger;
}

export interface Operator {
  port: number;
  config: Config;
  metrics: Metrics;
  controller: Controller;
  isLeader: () => boolean;
  stop: () => Promise<void>;
}

function kubeConfig(config: Config): KubeConfig {
  const kc = new KubeConfig();
  if (config.KUBECONFIG) kc.loadFromFile(config.KUBECONFIG);
  else kc.loadFromDefault();
  return kc;
}

/** Starts one operator instance: it campaigns for the Lease and reconciles while it leads. */
export async function start(opts: StartOptions = {}): Promise<Operator> {
  const config = opts.config ?? loadConfig();
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  const metrics = createMetrics();
  const kc = opts.kc ?? kubeConfig(config);
  const controller = new Controller({
    kc,
    config,
    log,
    metrics,
    // The elector is made below; the controller asks it right before each action.
    mayAct: () => elector.isLeader(),
  });
  let stopping = false;

  const elector = new LeaderElector({
    api: kc.makeApiClient(CoordinationV1Api),
    namespace: config.LEASE_NAMESPACE,
    name: config.LEASE_NAME,
    identity: config.POD_NAME,
    ownerPod: config.POD_UID ? { name: config.POD_NAME, uid: config.POD_UID } : undefined,
    leaseDurationMs: config.LEASE_DURATION_MS,
    renewDeadlineMs: config.LEASE_RENEW_DEADLINE_MS,
    retryPeriodMs: config.LEASE_RETRY_MS,
    log,
    onStartedLeading: () => {
      metrics.isLeader.set(1);
      metrics.leaderTransitions.inc();
      controller.startLeading();
    },
    onStoppedLeading: () => {
      metrics.isLeader.set(0);
      void controller.stopLeading();
    },
  });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    } else if (path === '/readyz') {
      // Ready once the cache is filled, leader or not: a standby must be Ready to take over.
      const ok = controller.hasSynced() && !stopping;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'not ready');
    } else if (path === '/metrics') {
      metrics.registry.metrics().then(
        (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, resolve);
  });
  const port = (server.address() as AddressInfo).port;

  await controller.start();
  elector.start();
  log.info(
    { port, identity: config.POD_NAME, lease: `${config.LEASE_NAMESPACE}/${config.LEASE_NAME}` },
    'operator started',
  );

  return {
    port,
    config,
    metrics,
    controller,
    isLeader: () => elector.isLeader(),
    stop: async () => {
      stopping = true;
      // Stop acting first, then hand the Lease over, then close the rest.
      await controller.stopLeading();
      await elector.stop();
      await controller.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      log.info('operator stopped');
    },
  };
}

async function main(): Promise<void> {
  if (process.argv.includes('--help') || process.argv.includes('-h')) {
    process.stdout.write(`${configHelp()}\n`);
    return;
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const op = await start({ config });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const force = setTimeout(() => process.exit(1), config.SHUTDOWN_TIMEOUT_MS);
    force.unref();
    process.stderr.write(JSON.stringify({ msg: `${signal}: stopping` }) + '\n');
    op.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
