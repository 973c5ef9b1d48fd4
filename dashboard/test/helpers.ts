// Test helpers: a reservation service of its own on the test bed's Postgres, Redis and NATS, a
// namespace of its own on the test bed's control plane, Prometheus scraping the service, and small
// clients (JSON, SSE) for the dashboard.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  AppsV1Api,
  CoreV1Api,
  KubeConfig,
  loadAllYaml,
  type V1CustomResourceDefinition,
  type V1Deployment,
} from '@kubernetes/client-node';
import { migrate, start as startReservation, type Service } from '@flashsale/reservation';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { pino } from 'pino';

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the test bed's global setup did not run`);
  return v;
}

export const ADMIN_TOKEN = 'dashboard-test-admin';
export const rand = (): string => randomBytes(4).toString('hex');

/** Polls `f` until it returns a value other than undefined, or fails naming `what`. */
export async function waitFor<T>(
  what: string,
  f: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

export interface Answer<T> {
  status: number;
  body: T;
  contentType: string;
}

/** JSON over HTTP. */
export async function http<T = Record<string, unknown>>(
  url: string,
  init: { method?: string; body?: unknown; raw?: string; token?: string } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = {};
  if (init.body !== undefined || init.raw !== undefined)
    headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  return {
    status: res.status,
    body: (/json/.test(contentType) && text ? JSON.parse(text) : text) as T,
    contentType,
  };
}

/** Reads `count` Server-Sent Events named `name` from `url`, then closes the stream. */
export async function readSse<T>(url: string, name: string, count: number): Promise<T[]> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  if (!res.body) throw new Error('no body');
  const out: T[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  const reader = res.body.getReader();
  try {
    while (out.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const lines = block.split('\n');
        const ev = lines.find((l) => l.startsWith('event: '))?.slice(7);
        const data = lines
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n');
        if (ev === name && data) out.push(JSON.parse(data) as T);
      }
    }
  } finally {
    ac.abort();
  }
  return out;
}

/** A reservation service on its own database, stream and key prefix, scraped by the test bed's Prometheus. */
export class ReservationUnderTest {
  readonly id = rand();
  readonly job = `rsv-${this.id}`;
  private readonly dbName = `dash_${this.id}`;
  private svc: Service | undefined;
  url = '';
  private targetFile = '';

  async start(): Promise<this> {
    const admin = new pg.Client({ connectionString: env('TESTBED_POSTGRES_URL') });
    await admin.connect();
    try {
      await admin.query(`create database ${this.dbName}`);
    } finally {
      await admin.end();
    }
    const u = new URL(env('TESTBED_POSTGRES_URL'));
    u.pathname = `/${this.dbName}`;
    await migrate(u.toString(), pino({ level: 'silent' }));
    this.svc = await startReservation({
      PORT: 0,
      DATABASE_URL: u.toString(),
      REDIS_URL: env('TESTBED_REDIS_URL'),
      NATS_URL: env('TESTBED_NATS_URL'),
      STREAM_NAME: `DASH_${this.id}`,
      SUBJECT_PREFIX: `d${this.id}`,
      CONSUMER_NAME: `w${this.id}`,
      REDIS_KEY_PREFIX: `d${this.id}:`,
      ADMIN_TOKEN,
      LOG_LEVEL: 'silent',
      RATE_LIMIT_IP_PER_SEC: 0,
      RATE_LIMIT_USER_PER_SEC: 0,
    });
    this.url = `http://127.0.0.1:${this.svc.port}`;
    // Prometheus picks file_sd targets up within a second; the job label isolates this test's series.
    const dir = env('TESTBED_PROMETHEUS_TARGETS_DIR');
    mkdirSync(dir, { recursive: true });
    this.targetFile = join(dir, `${this.job}.json`);
    writeFileSync(
      this.targetFile,
      JSON.stringify([
        {
          targets: [`127.0.0.1:${this.svc.port}`],
          labels: { job: this.job, pod: `reservation-${this.id}-0` },
        },
      ]),
    );
    return this;
  }

  async stop(): Promise<void> {
    if (this.targetFile) rmSync(this.targetFile, { force: true });
    await this.svc?.stop().catch(() => undefined);
    const nc = await connect({ servers: env('TESTBED_NATS_URL') }).catch(() => undefined);
    if (nc) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(`DASH_${this.id}`).catch(() => undefined);
      await nc.close();
    }
    const admin = new pg.Client({ connectionString: env('TESTBED_POSTGRES_URL') });
    await admin.connect();
    await admin.query(`drop database if exists ${this.dbName} with (force)`).catch(() => undefined);
    await admin.end();
  }
}

/** The test bed's admin KubeConfig. */
export function adminKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(env('TESTBED_KUBECONFIG'));
  return kc;
}

/** A kubeconfig file for the test bed's API server with a token it does not know. */
export function badTokenKubeconfig(dir: string): string {
  const kc = adminKubeConfig();
  const cluster = kc.getCurrentCluster()!;
  const file = join(dir, `bad-${rand()}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'c',
          cluster: {
            server: cluster.server,
            'certificate-authority-data': Buffer.from(cluster.caData ?? '', 'base64').length
              ? cluster.caData
              : undefined,
            'insecure-skip-tls-verify': cluster.caData ? undefined : true,
          },
        },
      ],
      users: [{ name: 'u', user: { token: 'not-a-valid-token' } }],
      contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }],
      'current-context': 'x',
    }),
  );
  return file;
}

/** A namespace with a reservation Deployment of 2 replicas and one Event. */
export async function seedNamespace(kc: KubeConfig, ns: string): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: ns } } });
  // The test bed's API server runs no admission plugin that waits for the default ServiceAccount,
  // but the ReplicaSet controller does: create it so pods are made at once.
  await core
    .createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'default' } } })
    .catch(() => undefined);
  const labels = { app: 'reservation' };
  const dep: V1Deployment = {
    metadata: { name: 'reservation', labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ name: 'reservation', image: 'flashsale/reservation:dev' }] },
      },
    },
  };
  await apps.createNamespacedDeployment({ namespace: ns, body: dep });
  await core.createNamespacedEvent({
    namespace: ns,
    body: {
      metadata: { name: `dash-test.${rand()}` },
      involvedObject: {
        kind: 'Deployment',
        name: 'reservation',
        namespace: ns,
        apiVersion: 'apps/v1',
      },
      reason: 'DashboardTest',
      message: 'an Event the dashboard must show',
      type: 'Warning',
      source: { component: 'dashboard-test' },
      firstTimestamp: new Date(),
      lastTimestamp: new Date(),
      count: 1,
    },
  });
}

/** A TCP listener that accepts and never answers: an upstream that hangs. */
export async function blackHole(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port nothing listens on. */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/**
 * A reverse proxy that serves Prometheus under a sub-path behind basic auth, as Prometheus often
 * sits behind an ingress: proves the dashboard keeps the sub-path and sends the credentials.
 */
export async function prometheusBehindProxy(
  target: string,
  prefix: string,
  user: string,
  password: string,
): Promise<{ url: string; close: () => Promise<void> }> {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const server = createServer((req, res) => {
    void (async () => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
        return;
      }
      if (!req.url?.startsWith(`${prefix}/`)) {
        res.writeHead(404).end();
        return;
      }
      try {
        const up = await fetch(`${target}${req.url.slice(prefix.length)}`);
        res.writeHead(up.status, {
          'content-type': up.headers.get('content-type') ?? 'text/plain',
        });
        res.end(Buffer.from(await up.arrayBuffer()));
      } catch {
        res.writeHead(502).end();
      }
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${user}:${password}@127.0.0.1:${port}${prefix}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export const TEST_AUTOSCALER = (id: string) => ({
  group: `t${id}.flashsale.dev`,
  version: 'v1alpha1',
  plural: 'reservationautoscalers',
  crd: `reservationautoscalers.t${id}.flashsale.dev`,
});

/**
 * The chart's own ReservationAutoscaler CRD (charts/flashsale/crds), moved to the test's group so
 * runs do not share it. Its structural schema makes the API server prune any field it does not
 * declare: a status written with a guessed name would not reach the dashboard.
 */
export function chartCrd(resource: ReturnType<typeof TEST_AUTOSCALER>): V1CustomResourceDefinition {
  const file = new URL(
    '../../charts/flashsale/crds/reservationautoscalers.flashsale.dev.yaml',
    import.meta.url,
  );
  const [crd] = loadAllYaml(readFileSync(file, 'utf8')) as V1CustomResourceDefinition[];
  if (!crd) throw new Error(`no CRD in ${file.pathname}`);
  return {
    ...crd,
    metadata: { name: resource.crd },
    spec: { ...crd.spec, group: resource.group },
  };
}

/**
 * Reservations in two waves with a scrape between them. A counter is born at its first increment,
 * so Prometheus shows a rate only once it has scraped the series before a later increment.
 */
export async function buyInTwoWaves(
  rsv: ReservationUnderTest,
  eventId: string,
  users: string[],
): Promise<void> {
  const buy = async (list: string[]) => {
    for (const userId of list)
      await http(`${rsv.url}/v1/events/${eventId}/reservations`, { body: { userId } });
  };
  await buy(users.slice(0, 1));
  // Without ?wait the answer is 202, which is what the accept-latency histogram observes.
  for (const metric of [
    'flashsale_reservation_decisions_total',
    'flashsale_reservation_accept_duration_seconds_count',
  ]) {
    const series = new URL('/api/v1/series', env('TESTBED_PROMETHEUS_URL'));
    series.searchParams.set('match[]', `${metric}{job="${rsv.job}"}`);
    await waitFor(`${metric} scraped`, async () =>
      (await http<{ data: unknown[] }>(series.toString())).body.data.length > 0 ? true : undefined,
    );
  }
  await new Promise((r) => setTimeout(r, 1500));
  await buy(users.slice(1));
}
