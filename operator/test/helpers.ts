// Helpers for the control-plane tests: the test bed's admin kubeconfig, the CRD applied from
// operator/deploy, a namespace per test file, a target Deployment, and operator instances with
// short leases.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadAllYaml,
  type KubernetesObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { waitUntil } from '@flashsale/testbed';
import { loadConfig, type Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { GROUP, PLURAL, VERSION, type ReservationAutoscaler } from '../src/spec.js';

export { waitUntil };

export const deployDir = fileURLToPath(new URL('../deploy/', import.meta.url));

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run under the test bed's global setup`);
  return v;
}

/** The test bed's admin (system:masters) kubeconfig. */
export function adminKc(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(env('TESTBED_KUBECONFIG'));
  return kc;
}

/** The same cluster, acting as `user` (Impersonate-User): RBAC then applies to that user. */
export function impersonatingKc(user: string): KubeConfig {
  const admin = adminKc();
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: admin.clusters,
    contexts: admin.contexts,
    currentContext: admin.currentContext,
    users: admin.users.map((u) => ({ ...u, impersonateUser: user })),
  });
  return kc;
}

export const prometheusUrl = () => env('TESTBED_PROMETHEUS_URL');
export const natsUrl = () => env('TESTBED_NATS_URL');

/** Loads the YAML documents of a file under operator/deploy. */
export function deployObjects(file: string): KubernetesObject[] {
  return loadAllYaml(readFileSync(`${deployDir}${file}`, 'utf8')) as KubernetesObject[];
}

/** Applies the CRD from operator/deploy/crds and waits until it is Established. */
export async function applyCrd(kc: KubeConfig): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const [crd] = deployObjects('crds/reservationautoscalers.flashsale.dev.yaml') as [
    V1CustomResourceDefinition,
  ];
  const name = crd.metadata?.name ?? '';
  try {
    const old = await api.readCustomResourceDefinition({ name });
    crd.metadata = { ...crd.metadata, resourceVersion: old.metadata?.resourceVersion };
    await api.replaceCustomResourceDefinition({ name, body: crd });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await api.createCustomResourceDefinition({ body: crd });
  }
  await waitUntil('CRD established', 30_000, async () => {
    const c = await api.readCustomResourceDefinition({ name });
    return Boolean(
      c.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'),
    );
  });
}

/** Creates a fresh namespace; the returned function deletes it. */
export async function namespace(
  kc: KubeConfig,
  prefix: string,
): Promise<[string, () => Promise<void>]> {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name } } });
  return [name, async () => void (await core.deleteNamespace({ name }).catch(() => undefined))];
}

/** A reservation-like Deployment (pods are created, never run: the test bed has no kubelet). */
export async function createDeployment(
  kc: KubeConfig,
  ns: string,
  name: string,
  replicas: number,
): Promise<void> {
  await kc.makeApiClient(AppsV1Api).createNamespacedDeployment({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        replicas,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: { labels: { app: name } },
          spec: { containers: [{ name: 'app', image: 'flashsale-reservation:test' }] },
        },
      },
    },
  });
}

export async function replicasOf(kc: KubeConfig, ns: string, name: string): Promise<number> {
  const s = await kc
    .makeApiClient(AppsV1Api)
    .readNamespacedDeploymentScale({ name, namespace: ns });
  return s.spec?.replicas ?? 0;
}

export async function createAutoscaler(
  kc: KubeConfig,
  ns: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: PLURAL,
    body: {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'ReservationAutoscaler',
      metadata: { name },
      spec,
    },
  });
}

export async function readAutoscaler(
  kc: KubeConfig,
  ns: string,
  name: string,
): Promise<ReservationAutoscaler> {
  return (await kc.makeApiClient(CustomObjectsApi).getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: ns,
    plural: PLURAL,
    name,
  })) as ReservationAutoscaler;
}

export async function eventReasons(kc: KubeConfig, ns: string): Promise<string[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns });
  return list.items.map((e) => e.reason ?? '');
}

/** Operator settings for a test: its namespace only, short leases, a fast loop, port 0. */
export function testConfig(ns: string, over: Partial<Config> = {}): Config {
  return loadConfig(
    {},
    {
      PORT: 0,
      WATCH_NAMESPACE: ns,
      LEASE_NAMESPACE: ns,
      LEASE_NAME: 'flashsale-operator',
      LEASE_DURATION_MS: 4000,
      LEASE_RENEW_DEADLINE_MS: 3000,
      LEASE_RETRY_MS: 500,
      SYNC_PERIOD_MS: 500,
      BACKLOG_PROBE_MS: 200,
      SCHEDULE_REFRESH_MS: 1000,
      ...over,
    },
  );
}

/** A logger whose lines are kept (parsed) for assertions, and printed when DEBUG_OPERATOR is set. */
export function capturingLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(JSON.parse(l) as Record<string, unknown>);
        if (process.env.DEBUG_OPERATOR) process.stderr.write(`${l}\n`);
      }
      cb();
    },
  });
  return { log: pino({ level: 'debug', base: { service: 'operator' } }, sink), lines };
}

/** A spec whose RPS comes from the real Prometheus as a constant expression. */
export function specWithRps(
  rps: number | string,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    scaleTargetRef: { name: 'reservation' },
    minReplicas: 1,
    maxReplicas: 10,
    targetRpsPerReplica: 500,
    targetBacklogPerReplica: 1000,
    prometheus: {
      address: prometheusUrl(),
      query: typeof rps === 'number' ? `vector(${rps})` : rps,
    },
    jetstream: over.jetstream ?? {
      url: natsUrl(),
      stream: 'RESERVATIONS_T',
      consumer: 'reservation-worker',
    },
    preScale: { enabled: false },
    ...over,
  };
}
