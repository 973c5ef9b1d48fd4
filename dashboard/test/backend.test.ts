// The backend against real upstreams: the test bed's kube-apiserver (with controller-manager),
// its Prometheus (scraping a real reservation service, reached through a sub-path proxy with basic
// auth) and that reservation service. Then each upstream failing: Prometheus down or hanging, the
// API server refusing a bad token, the reservation service gone.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AutoscalerStatus } from '../../operator/src/spec.js';
import type { LiveState, LoadTestRun, Problem, SaleInventory, Traffic } from '../src/api-types.js';
import { start, type Dashboard } from '../src/main.js';
import { trafficQueries } from '../src/traffic.js';
import {
  ADMIN_TOKEN,
  adminKubeConfig,
  badTokenKubeconfig,
  blackHole,
  buyInTwoWaves,
  chartCrd,
  closedPortUrl,
  env,
  http,
  prometheusBehindProxy,
  rand,
  readSse,
  ReservationUnderTest,
  seedNamespace,
  TEST_AUTOSCALER,
  waitFor,
} from './helpers.js';

const id = rand();
const ns = `dash-${id}`;
const resource = TEST_AUTOSCALER(id);
let kc: KubeConfig;
let rsv: ReservationUnderTest;
let proxy: Awaited<ReturnType<typeof prometheusBehindProxy>>;
let dash: Dashboard;
let base: string;
const tmp = mkdtempSync(join(tmpdir(), 'dash-test-'));
const others: Array<{ stop(): Promise<void> }> = [];

function common() {
  return {
    PORT: 0,
    HOST: '127.0.0.1',
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent',
    NAMESPACE: ns,
    KUBECONFIG: env('TESTBED_KUBECONFIG'),
    PROMETHEUS_SELECTOR: `job="${rsv.job}"`,
    PROMETHEUS_URL: proxy.url,
    RESERVATION_URL: rsv.url,
    ADMIN_TOKEN,
    STREAM_INTERVAL_MS: 1000,
    KUBE_TIMEOUT_MS: 2000,
    PROMETHEUS_TIMEOUT_MS: 1500,
    RESERVATION_TIMEOUT_MS: 2000,
  };
}

/** Another dashboard on the same upstreams with some settings changed. */
async function variant(overrides: Parameters<typeof start>[0]): Promise<string> {
  const d = await start({ ...common(), ...overrides }, {}, { autoscalerResource: resource });
  others.push(d);
  return `http://127.0.0.1:${d.port}`;
}

const state = async (url = base) => (await http<LiveState>(`${url}/api/state`)).body;

beforeAll(async () => {
  kc = adminKubeConfig();
  rsv = await new ReservationUnderTest().start();
  proxy = await prometheusBehindProxy(env('TESTBED_PROMETHEUS_URL'), '/prom', 'dash', 's3cret');
  await seedNamespace(kc, ns);
  dash = await start(common(), {}, { autoscalerResource: resource });
  base = `http://127.0.0.1:${dash.port}`;
});

afterAll(async () => {
  await Promise.all(others.map((o) => o.stop()));
  await dash?.stop();
  await proxy?.close();
  await rsv?.stop();
  if (kc) {
    await kc
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
    await kc
      .makeApiClient(ApiextensionsV1Api)
      .deleteCustomResourceDefinition({ name: resource.crd })
      .catch(() => undefined);
  }
  rmSync(tmp, { recursive: true, force: true });
});

describe('own endpoints', () => {
  it('when asked, then /healthz is ok and /metrics has the flashsale_dashboard_ series', async () => {
    await state();
    expect((await http(`${base}/healthz`)).body).toEqual({ status: 'ok' });
    const m = await http<string>(`${base}/metrics`);
    expect(m.body).toContain('flashsale_dashboard_http_requests_total');
    expect(m.body).toContain('flashsale_dashboard_process_cpu_seconds_total');
    expect(m.body).toMatch(/flashsale_dashboard_upstream_up\{upstream="kubernetes"\} 1/);
  });

  it('when a route does not exist or the query is bad, then it is a problem+json 4xx with a code', async () => {
    const nf = await http<Problem>(`${base}/api/nope`);
    expect(nf.status).toBe(404);
    expect(nf.contentType).toContain('application/problem+json');
    expect(nf.body.code).toBe('not_found');
    const bad = await http<Problem>(`${base}/api/traffic?minutes=0`);
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
    expect(bad.body.errors?.[0]?.path).toBe('query.minutes');
  });
});

describe('overview from the Kubernetes API', () => {
  it('when the namespace has a Deployment, then desired/ready and the pods equal the API', async () => {
    const apps = kc.makeApiClient(AppsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    // The controller-manager makes the ReplicaSet and its pods; wait until the dashboard agrees
    // with the API on every field it shows.
    await waitFor('the overview to equal the API', async () => {
      const d = await apps.readNamespacedDeployment({ name: 'reservation', namespace: ns });
      const pods = await core.listNamespacedPod({ namespace: ns });
      const ov = (await http<Pick<LiveState, 'deployments' | 'pods'>>(`${base}/api/overview`)).body;
      if (!ov.deployments.ok || !ov.pods.ok) return undefined;
      const shown = ov.deployments.data.find((x) => x.name === 'reservation');
      const names = ov.pods.data.map((p) => p.name).sort();
      const apiNames = pods.items.map((p) => p.metadata!.name!).sort();
      if (apiNames.length !== 2 || names.join() !== apiNames.join()) return undefined;
      expect(shown).toEqual({
        name: 'reservation',
        desired: d.spec!.replicas,
        ready: d.status?.readyReplicas ?? 0,
        available: d.status?.availableReplicas ?? 0,
        updated: d.status?.updatedReplicas ?? 0,
      });
      for (const p of ov.pods.data) {
        const api = pods.items.find((x) => x.metadata!.name === p.name)!;
        expect(p.phase).toBe(api.status?.phase);
        expect(p.ready).toBe(false);
      }
      return true;
    });
  });

  it('when every upstream answers, then the health strip is all up', async () => {
    const h = await waitFor('all up', async () => {
      const s = await state();
      return s.health.every((x) => x.state === 'up') ? s.health : undefined;
    });
    expect(h.map((x) => x.name)).toEqual([
      'kubernetes',
      'prometheus',
      'reservation',
      'postgres',
      'redis',
      'nats',
    ]);
  });

  it('when the namespace has an Event, then it is in the feed', async () => {
    const item = await waitFor('the Event in the feed', async () =>
      (await state()).feed.find((f) => f.title === 'DashboardTest'),
    );
    expect(item).toMatchObject({
      kind: 'event',
      severity: 'warning',
      object: 'Deployment/reservation',
      detail: 'an Event the dashboard must show',
    });
  });
});

describe('the autoscaler', () => {
  it('when the CRD is absent, then it is "not installed"; once installed, its status is shown', async () => {
    const s0 = await state();
    expect(s0.autoscaler).toEqual({ ok: true, data: { installed: false } });

    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: chartCrd(resource) });
    const custom = kc.makeApiClient(CustomObjectsApi);
    const ref = {
      group: resource.group,
      version: resource.version,
      namespace: ns,
      plural: resource.plural,
    };
    await waitFor('the CRD to be served', async () => {
      await custom.listNamespacedCustomObject(ref);
      return true;
    });
    await custom.createNamespacedCustomObject({
      ...ref,
      body: {
        apiVersion: `${resource.group}/${resource.version}`,
        kind: 'ReservationAutoscaler',
        metadata: { name: 'reservation' },
        spec: { scaleTargetRef: { name: 'reservation' }, minReplicas: 2, maxReplicas: 20 },
      },
    });
    // The status as the operator's controller writes it: a merge patch of the status subresource.
    const status: AutoscalerStatus = {
      observedGeneration: 1,
      currentReplicas: 2,
      desiredReplicas: 6,
      recommendedReplicas: 6,
      observedRps: 1234.5,
      observedBacklog: 800,
      lastReason: 'ScaledUp',
      lastMessage: 'ScaledUp: 2 -> 6; rps 1234.5 (200/replica)',
      lastDecisionTime: '2026-11-22T08:00:00.000Z',
      lastScaleTime: '2026-11-22T08:00:00.000Z',
      preScale: null,
      conditions: [
        {
          type: 'MetricsAvailable',
          status: 'True',
          reason: 'SignalsRead',
          message: 'rps and backlog read',
          lastTransitionTime: '2026-11-22T08:00:00.000Z',
          observedGeneration: 1,
        },
      ],
    };
    await custom.patchNamespacedCustomObjectStatus(
      { ...ref, name: 'reservation', body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const shown = await waitFor('the autoscaler status', async () => {
      const s = await state();
      return s.autoscaler.ok && s.autoscaler.data.installed && s.autoscaler.data.items.length
        ? { scaler: s.autoscaler.data.items[0]!, replicas: s.replicas }
        : undefined;
    });
    expect(shown.scaler).toEqual({
      name: 'reservation',
      target: 'reservation',
      minReplicas: 2,
      maxReplicas: 20,
      mode: 'active',
      desiredReplicas: 6,
      recommendedReplicas: 6,
      currentReplicas: 2,
      observedRps: 1234.5,
      observedBacklog: 800,
      lastReason: 'ScaledUp',
      lastMessage: 'ScaledUp: 2 -> 6; rps 1234.5 (200/replica)',
      lastDecisionAt: '2026-11-22T08:00:00.000Z',
      lastScaleAt: '2026-11-22T08:00:00.000Z',
      preScale: null,
      conditions: [
        {
          type: 'MetricsAvailable',
          status: 'True',
          reason: 'SignalsRead',
          message: 'rps and backlog read',
        },
      ],
    });
    const latest = await waitFor('a replicas sample with the decision', async () => {
      const r = (await state()).replicas.at(-1);
      return r?.reason === 'ScaledUp' ? r : undefined;
    });
    expect(latest).toMatchObject({ desired: 2, autoscalerDesired: 6 });
  });
});

describe('sales and inventory', () => {
  let eventId = '';

  it('without the admin token, creating a sale is 401; with a bad body, 400; else 201', async () => {
    const body = { name: `dash sale ${id}`, capacity: 3 };
    expect((await http<Problem>(`${base}/api/sales`, { body })).body.code).toBe('unauthorized');
    const wrong = await http<Problem>(`${base}/api/sales`, { body, token: 'nope' });
    expect(wrong.status).toBe(401);
    const bad = await http<Problem>(`${base}/api/sales`, {
      body: { name: '', capacity: -1 },
      token: ADMIN_TOKEN,
    });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('invalid_request');
    const notJson = await http<Problem>(`${base}/api/sales`, { raw: '{', token: ADMIN_TOKEN });
    expect(notJson.status).toBe(400);
    const ok = await http<{ id: string; capacity: number }>(`${base}/api/sales`, {
      body,
      token: ADMIN_TOKEN,
    });
    expect(ok.status).toBe(201);
    expect(ok.body.capacity).toBe(3);
    eventId = ok.body.id;
  });

  it('when buyers reserve, then sold/remaining/pending shown equal the audit', async () => {
    expect(eventId).not.toBe('');
    for (let i = 0; i < 5; i++) {
      const r = await http(`${rsv.url}/v1/events/${eventId}/reservations?wait=2000`, {
        body: { userId: `u${i}` },
      });
      expect([201, 202, 409]).toContain(r.status);
    }
    const pair = await waitFor('the inventory to equal a drained audit', async () => {
      const audit = (
        await http<{
          sold: number;
          capacity: number;
          pendingInQueue: number;
          drift: number | null;
          oversold: boolean;
        }>(`${rsv.url}/v1/events/${eventId}/audit`, { token: ADMIN_TOKEN })
      ).body;
      if (audit.pendingInQueue !== 0 || audit.sold !== 3) return undefined;
      const inv = (await http<{ sales: LiveState['sales'] }>(`${base}/api/inventory`)).body.sales;
      if (!inv.ok) return undefined;
      const sale = inv.data.find((x) => x.id === eventId);
      return sale && sale.sold === audit.sold ? { audit, sale } : undefined;
    });
    expect(pair.sale).toMatchObject<Partial<SaleInventory>>({
      capacity: pair.audit.capacity,
      sold: pair.audit.sold,
      remaining: pair.audit.capacity - pair.audit.sold,
      pending: pair.audit.pendingInQueue,
      oversold: pair.audit.oversold,
      drift: pair.audit.drift,
      state: 'sold_out',
    });
  });

  it('when reservations were made, then the traffic charts equal Prometheus queried directly', async () => {
    const sale = (
      await http<{ id: string }>(`${base}/api/sales`, {
        body: { name: 'traffic', capacity: 50 },
        token: ADMIN_TOKEN,
      })
    ).body;
    await buyInTwoWaves(rsv, sale.id, ['t0', 't1', 't2', 't3', 't4']);
    let seen: Traffic | undefined;
    const t = await waitFor('non-empty traffic', async () => {
      const tr = (await http<Traffic>(`${base}/api/traffic?minutes=1`)).body;
      seen = tr;
      const rps = tr.queries.rps;
      const outcomes = tr.queries.outcomes;
      const confirmed = outcomes.ok ? outcomes.data.find((s) => s.name === 'confirmed') : undefined;
      return rps.ok &&
        (rps.data[0]?.points.length ?? 0) >= 12 &&
        rps.data[0]?.points.some(([, v]) => (v ?? 0) > 0) &&
        confirmed?.points.some(([, v]) => (v ?? 0) > 0)
        ? tr
        : undefined;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; last answer ${JSON.stringify(seen?.queries.rps)}`);
    });
    for (const key of ['acceptLatency', 'backlog', 'cpu', 'memory'] as const) {
      const q = t.queries[key];
      expect(q.ok, key).toBe(true);
      if (q.ok) expect(q.data.length, key).toBeGreaterThan(0);
    }
    const cpu = t.queries.cpu;
    if (cpu.ok) expect(cpu.data.map((s) => s.name)).toEqual([`reservation-${rsv.id}-0`]);
    // The same range query straight to Prometheus must give the very same points.
    const q = trafficQueries(`job="${rsv.job}"`, 'pod').rps[0]!;
    const direct = new URL('/api/v1/query_range', env('TESTBED_PROMETHEUS_URL'));
    direct.search = new URLSearchParams({
      query: q.promql,
      start: String(t.start),
      end: String(t.end),
      step: String(t.step),
    }).toString();
    const answer = (
      await http<{ data: { result: Array<{ values: Array<[number, string]> }> } }>(
        direct.toString(),
      )
    ).body;
    const points = answer.data.result[0]!.values.map(([ts, v]) => [ts, Number(v)]);
    // A scrape stamped just before `end` may land after the dashboard's query: the newest two
    // points may differ for that reason alone, every earlier one must be identical.
    const shown = t.queries.rps.ok ? t.queries.rps.data[0]!.points : [];
    expect(shown.length).toBeGreaterThan(10);
    expect(shown.slice(0, -2)).toEqual(points.slice(0, shown.length - 2));
  });
});

describe('the live stream', () => {
  it('when a client subscribes, then it gets a new state at least every 2 s', async () => {
    const states = await readSse<LiveState>(`${base}/api/stream`, 'state', 3);
    expect(states).toHaveLength(3);
    expect(states.every((s) => s.namespace === ns)).toBe(true);
    expect(new Set(states.map((s) => s.at)).size).toBeGreaterThanOrEqual(2);
  });
});

describe('load tests', () => {
  it('when an admin launches one, then a k6 Job with the script ConfigMap exists and is listed', async () => {
    const sale = (
      await http<{ id: string }>(`${base}/api/sales`, {
        body: { name: 'rush', capacity: 100 },
        token: ADMIN_TOKEN,
      })
    ).body;
    const tooBig = await http<Problem>(`${base}/api/loadtests`, {
      body: { eventId: sale.id, vus: 1_000_000, durationSeconds: 30 },
      token: ADMIN_TOKEN,
    });
    expect(tooBig.status).toBe(400);
    const unauth = await http<Problem>(`${base}/api/loadtests`, {
      body: { eventId: sale.id, vus: 10, durationSeconds: 30 },
    });
    expect(unauth.status).toBe(401);
    const r = await http<LoadTestRun>(`${base}/api/loadtests`, {
      body: { eventId: sale.id, vus: 50, durationSeconds: 30 },
      token: ADMIN_TOKEN,
    });
    expect(r.status).toBe(201);
    expect(r.body.name).toMatch(/^loadtest-/);
    const job = await kc
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ name: r.body.name, namespace: ns });
    const pod = job.spec!.template.spec!;
    expect(pod.containers[0]!.image).toBe('flashsale/k6:dev');
    expect(pod.containers[0]!.args).toEqual(
      expect.arrayContaining(['run', '--vus', '50', '--duration', '30s', '/scripts/rush.js']),
    );
    expect(pod.containers[0]!.env).toEqual(
      expect.arrayContaining([
        { name: 'EVENT_ID', value: sale.id },
        { name: 'BASE_URL', value: rsv.url },
      ]),
    );
    expect(pod.volumes?.[0]?.configMap?.name).toBe('flashsale-k6-scripts');
    const listed = await waitFor('the run in the list', async () => {
      const s = await state();
      return s.loadTests.ok ? s.loadTests.data.find((x) => x.name === r.body.name) : undefined;
    });
    expect(listed).toMatchObject({ eventId: sale.id, vus: 50, durationSeconds: 30 });
    expect(['pending', 'running']).toContain(listed.state);
  });
});

describe('upstreams failing', () => {
  it('when Prometheus is down, then its charts and light say so and the rest still shows', async () => {
    const url = await variant({ PROMETHEUS_URL: await closedPortUrl() });
    const tr = (await http<Traffic>(`${url}/api/traffic`)).body;
    for (const q of Object.values(tr.queries)) {
      expect(q.ok).toBe(false);
      if (!q.ok) expect(q.error).toMatchObject({ source: 'prometheus', code: 'unreachable' });
    }
    const s = await state(url);
    expect(s.health.find((h) => h.name === 'prometheus')?.state).toBe('down');
    expect(s.health.find((h) => h.name === 'kubernetes')?.state).toBe('up');
    expect(s.deployments.ok && s.sales.ok).toBe(true);
    expect(s.feed.some((f) => f.kind === 'error' && f.object === 'prometheus')).toBe(true);
  });

  it('when Prometheus hangs, then its queries time out instead of hanging the page', async () => {
    const hole = await blackHole();
    try {
      const url = await variant({ PROMETHEUS_URL: hole.url, PROMETHEUS_TIMEOUT_MS: 300 });
      const tr = (await http<Traffic>(`${url}/api/traffic`)).body;
      expect(tr.queries.rps).toMatchObject({ ok: false, error: { code: 'timeout' } });
    } finally {
      await hole.close();
    }
  });

  it('when Prometheus rejects the credentials, then it is down as unauthorized', async () => {
    const u = new URL(proxy.url);
    u.password = 'wrong';
    const url = await variant({ PROMETHEUS_URL: u.toString() });
    const tr = (await http<Traffic>(`${url}/api/traffic`)).body;
    expect(tr.queries.rps).toMatchObject({ ok: false, error: { code: 'unauthorized' } });
  });

  it('when the API server refuses the token, then Kubernetes is down and the sales still show', async () => {
    const url = await variant({ KUBECONFIG: badTokenKubeconfig(tmp) });
    const s = await state(url);
    expect(s.deployments).toMatchObject({
      ok: false,
      error: { source: 'kubernetes', code: 'unauthorized' },
    });
    expect(s.pods.ok || s.autoscaler.ok || s.loadTests.ok).toBe(false);
    expect(s.health.find((h) => h.name === 'kubernetes')?.state).toBe('down');
    expect(s.sales.ok).toBe(true);
    const launch = await http<Problem>(`${url}/api/loadtests`, {
      body: { eventId: '00000000-0000-4000-8000-000000000000', vus: 1, durationSeconds: 5 },
      token: ADMIN_TOKEN,
    });
    expect(launch.status).toBe(422);
    expect(launch.body.code).toBe('upstream_rejected');
  });

  it('when the reservation service is gone, then its light is down and Postgres/Redis/NATS are unknown', async () => {
    const url = await variant({ RESERVATION_URL: await closedPortUrl() });
    const s = await state(url);
    expect(s.sales).toMatchObject({
      ok: false,
      error: { source: 'reservation', code: 'unreachable' },
    });
    expect(s.health.find((h) => h.name === 'reservation')?.state).toBe('down');
    expect(
      s.health.filter((h) => ['postgres', 'redis', 'nats'].includes(h.name)).map((h) => h.state),
    ).toEqual(['unknown', 'unknown', 'unknown']);
    const create = await http<Problem>(`${url}/api/sales`, {
      body: { name: 'x', capacity: 1 },
      token: ADMIN_TOKEN,
    });
    expect(create.status).toBe(503);
    expect(create.body.code).toBe('upstream_unavailable');
  });
});
