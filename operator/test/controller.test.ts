// On the test bed's control plane (etcd + kube-apiserver + kube-controller-manager), with the real
// Prometheus and NATS: the CRD's validation, CR → Deployment scaled, status and conditions, holding
// when metrics are missing, and pod remediation.
import { CoreV1Api, CustomObjectsApi, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Operator } from '../src/main.js';
import { GROUP, PLURAL, VERSION } from '../src/spec.js';
import {
  adminKc,
  applyCrd,
  capturingLogger,
  createAutoscaler,
  createDeployment,
  eventReasons,
  namespace,
  natsUrl,
  readAutoscaler,
  replicasOf,
  specWithRps,
  testConfig,
  waitUntil,
} from './helpers.js';

let kc: KubeConfig;
let ns: string;
let dropNs: () => Promise<void>;
let op: Operator;
let nc: NatsConnection;

beforeAll(async () => {
  kc = adminKc();
  await applyCrd(kc);
  [ns, dropNs] = await namespace(kc, 'op-ctrl');
  // The worker consumer the backlog signal reads, on the real NATS.
  nc = await connect({ servers: natsUrl() });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: 'RESERVATIONS_T', subjects: [`t.${ns}.>`] });
  await jsm.consumers.add('RESERVATIONS_T', {
    durable_name: 'reservation-worker',
    ack_policy: AckPolicy.Explicit,
  });
  op = await start({ config: testConfig(ns), kc, log: capturingLogger().log });
  await waitUntil('leader', 20_000, () => Promise.resolve(op.isLeader()));
});

afterAll(async () => {
  await op?.stop();
  const jsm = nc ? await jetstreamManager(nc) : undefined;
  await jsm?.streams.delete('RESERVATIONS_T').catch(() => undefined);
  await nc?.close();
  await dropNs?.();
});

describe('the CRD', () => {
  const create = (spec: Record<string, unknown>) =>
    kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      body: {
        apiVersion: `${GROUP}/${VERSION}`,
        kind: 'ReservationAutoscaler',
        metadata: { name: 'bad' },
        spec,
      },
    });

  it('when minReplicas > maxReplicas, then the API server refuses it with the CEL message', async () => {
    await expect(
      create({ scaleTargetRef: { name: 'x' }, minReplicas: 5, maxReplicas: 2 }),
    ).rejects.toThrow(/spec\.minReplicas.*minReplicas must be/);
  });

  it('when a target per replica is 0, then it is refused', async () => {
    await expect(create({ scaleTargetRef: { name: 'x' }, targetRpsPerReplica: 0 })).rejects.toThrow(
      /must be positive/,
    );
  });

  it('when fields are left out, then the defaults are filled in by the API server', async () => {
    await createAutoscaler(kc, ns, 'defaults', { scaleTargetRef: { name: 'nothing-here' } });
    const o = await readAutoscaler(kc, ns, 'defaults');
    expect(o.spec).toMatchObject({
      minReplicas: 2,
      maxReplicas: 20,
      targetRpsPerReplica: 500,
      tolerancePercent: 10,
      behavior: { scaleDown: { stabilizationWindowSeconds: 120, maxStepPods: 2 } },
      jetstream: { stream: 'RESERVATIONS', consumer: 'reservation-worker' },
    });
    // Its target does not exist: reported, not crashed on.
    await waitUntil('TargetNotFound status', 20_000, async () => {
      const s = (await readAutoscaler(kc, ns, 'defaults')).status;
      return s?.conditions?.find((c) => c.type === 'Ready')?.reason === 'TargetNotFound';
    });
  });
});

describe('scaling', () => {
  it('when Prometheus reports 2,400 rps at 500 per replica, then the Deployment goes 1 → 5 in one step, with status, conditions and an Event', async () => {
    await createDeployment(kc, ns, 'reservation', 1);
    await createAutoscaler(kc, ns, 'rps', specWithRps(2400));
    await waitUntil(
      'scaled to 5',
      30_000,
      async () => (await replicasOf(kc, ns, 'reservation')) === 5,
    );
    await waitUntil(
      'status written',
      20_000,
      async () => (await readAutoscaler(kc, ns, 'rps')).status?.desiredReplicas === 5,
    );
    const o = await readAutoscaler(kc, ns, 'rps');
    expect(o.status).toMatchObject({
      observedGeneration: o.metadata.generation,
      observedRps: 2400,
      observedBacklog: 0,
      desiredReplicas: 5,
    });
    const cond = Object.fromEntries((o.status?.conditions ?? []).map((c) => [c.type, c]));
    expect(cond.Ready).toMatchObject({ status: 'True', observedGeneration: o.metadata.generation });
    expect(cond.MetricsAvailable).toMatchObject({ status: 'True' });
    expect(cond.ScalingLimited).toMatchObject({ status: 'False' });
    expect(await eventReasons(kc, ns)).toContain('ScaledUp');
  });

  it('when the demand exceeds maxReplicas, then it stops at max and ScalingLimited is True', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    await api.patchNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      name: 'rps',
      body: [{ op: 'replace', path: '/spec/prometheus/query', value: 'vector(99000)' }],
    });
    await waitUntil(
      'scaled to max 10',
      30_000,
      async () => (await replicasOf(kc, ns, 'reservation')) === 10,
    );
    await waitUntil('ScalingLimited', 20_000, async () => {
      const o = await readAutoscaler(kc, ns, 'rps');
      const c = o.status?.conditions?.find((x) => x.type === 'ScalingLimited');
      return c?.status === 'True' && c.observedGeneration === o.metadata.generation;
    });
  });

  it('when the query answers nothing (Prometheus empty answer), then MetricsAvailable is False and nothing scales down', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    await api.patchNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      name: 'rps',
      body: [
        {
          op: 'replace',
          path: '/spec/prometheus/query',
          value: 'sum(flashsale_metric_that_does_not_exist)',
        },
        { op: 'replace', path: '/spec/jetstream/consumer', value: 'no-such-consumer' },
        { op: 'replace', path: '/spec/behavior/scaleDown/stabilizationWindowSeconds', value: 0 },
      ],
    });
    await waitUntil('MetricsAvailable False', 30_000, async () => {
      const o = await readAutoscaler(kc, ns, 'rps');
      const c = o.status?.conditions?.find((x) => x.type === 'MetricsAvailable');
      return c?.status === 'False' && c.observedGeneration === o.metadata.generation;
    });
    // Several decisions later (the loop runs every 500 ms), still 10: a missing metric is no reason to shrink.
    const before = (await readAutoscaler(kc, ns, 'rps')).status?.lastDecisionTime;
    await waitUntil('more decisions', 20_000, async () => {
      const t = (await readAutoscaler(kc, ns, 'rps')).status?.lastDecisionTime;
      return t !== undefined && before !== undefined && Date.parse(t) - Date.parse(before) >= 3000;
    });
    expect(await replicasOf(kc, ns, 'reservation')).toBe(10);
    const o = await readAutoscaler(kc, ns, 'rps');
    expect(o.status?.lastReason).toBe('MetricsUnavailableHold');
    // A merge patch's null removes the field: no number is shown, not a stale one.
    expect(o.status?.observedRps).toBeUndefined();
    expect(o.status?.conditions?.find((c) => c.type === 'MetricsAvailable')?.message).toMatch(
      /empty answer/,
    );
    expect(await eventReasons(kc, ns)).toContain('MetricsUnavailable');
  });

  it('when metrics come back low and the window is 0, then it scales down in bounded steps', async () => {
    const api = kc.makeApiClient(CustomObjectsApi);
    await api.patchNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns,
      plural: PLURAL,
      name: 'rps',
      body: [
        { op: 'replace', path: '/spec/prometheus/query', value: 'vector(100)' },
        { op: 'replace', path: '/spec/jetstream/consumer', value: 'reservation-worker' },
        { op: 'replace', path: '/spec/behavior/scaleDown/periodSeconds', value: 1 },
      ],
    });
    const seen = new Set<number>();
    await waitUntil('scaled down to min 1', 60_000, async () => {
      const r = await replicasOf(kc, ns, 'reservation');
      seen.add(r);
      return r === 1;
    });
    // 10 → 8 → 6 → 4 → 3 → 2 → 1 (max(2 pods, 25%) per step): intermediate counts were visited.
    expect([...seen].some((r) => r > 1 && r < 10)).toBe(true);
    expect(await eventReasons(kc, ns)).toContain('ScaledDown');
  });

  it('when the backlog of the real consumer grows, then the backlog drives the count', async () => {
    const js = (await import('@nats-io/jetstream')).jetstream(nc);
    for (let i = 0; i < 2500; i += 500)
      await Promise.all(Array.from({ length: 500 }, () => js.publish(`t.${ns}.x`, 'm')));
    const info = await (
      await jetstreamManager(nc)
    ).consumers.info('RESERVATIONS_T', 'reservation-worker');
    expect(info.num_pending).toBe(2500);
    // 2,500 pending / 1,000 per replica → 3, while rps (100) alone asks for 1.
    await waitUntil(
      'scaled to 3 by backlog',
      30_000,
      async () => (await replicasOf(kc, ns, 'reservation')) === 3,
    );
    // The status is written right after the scale: wait for it rather than race it.
    await waitUntil('status shows the backlog', 20_000, async () => {
      const st = (await readAutoscaler(kc, ns, 'rps')).status;
      return (st?.observedBacklog ?? 0) >= 2500 && st?.desiredReplicas === 3;
    });
  });
});

describe('remediation', () => {
  const core = () => kc.makeApiClient(CoreV1Api);

  /** Marks a pod crash-looping as a kubelet would (the test bed has none, so nothing overwrites it). */
  async function crashLoop(pod: V1Pod, restarts: number): Promise<void> {
    await core().patchNamespacedPodStatus(
      {
        name: pod.metadata?.name ?? '',
        namespace: ns,
        body: {
          status: {
            phase: 'Running',
            conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date() }],
            containerStatuses: [
              {
                name: 'app',
                image: 'x',
                imageID: '',
                ready: false,
                restartCount: restarts,
                state: { waiting: { reason: 'CrashLoopBackOff' } },
              },
            ],
          },
        },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions(
        'Content-Type',
        'application/merge-patch+json',
      ),
    );
  }

  it('when one of four pods crash-loops past the threshold, then it is deleted and replaced, with an Event', async () => {
    await createDeployment(kc, ns, 'healer', 4);
    await createAutoscaler(
      kc,
      ns,
      'healer',
      specWithRps(2000, {
        scaleTargetRef: { name: 'healer' },
        remediation: { restartThreshold: 3 },
      }),
    );
    let pods: V1Pod[] = [];
    await waitUntil('4 pods', 30_000, async () => {
      pods = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=healer' })).items;
      return pods.length === 4;
    });
    const victim = pods[0] as V1Pod;
    await crashLoop(victim, 5);
    await waitUntil('victim deleted', 30_000, async () => {
      const now = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=healer' }))
        .items;
      return !now.some((p) => p.metadata?.uid === victim.metadata?.uid);
    });
    // The Event and the metric follow the deletion: wait for them rather than race them.
    await waitUntil('PodRestarted Event', 10_000, async () =>
      (await eventReasons(kc, ns)).includes('PodRestarted'),
    );
    const metrics = await op.metrics.registry.getSingleMetricAsString(
      'flashsale_operator_pod_restarts_total',
    );
    expect(metrics).toMatch(/why="CrashLoopBackOff"} 1/);
  });

  it('when half of the pods crash-loop, then it is an outage: reported, none deleted', async () => {
    const pods = (
      await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=healer' })
    ).items.filter((p) => !p.metadata?.deletionTimestamp);
    const [a, b] = pods as [V1Pod, V1Pod];
    await crashLoop(a, 9);
    await crashLoop(b, 9);
    await waitUntil('RemediationSkipped', 30_000, async () =>
      (await eventReasons(kc, ns)).includes('RemediationSkipped'),
    );
    const after = (await core().listNamespacedPod({ namespace: ns, labelSelector: 'app=healer' }))
      .items;
    expect(
      after.filter(
        (p) => p.metadata?.uid === a.metadata?.uid || p.metadata?.uid === b.metadata?.uid,
      ),
    ).toHaveLength(2);
  });
});
