// The operator runs with exactly the rules of operator/deploy/rbac.yaml (namespaced: a Role in the
// namespace it watches, as the chart's default), as its ServiceAccount (impersonation), through a
// whole life: Lease taken and released, CR watched, Deployment scaled,
// status written, a pod restarted, Events recorded. Every call must be allowed; and the rules grant
// nothing beyond what it uses (SubjectAccessReviews for calls it must not be able to make).
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1Pod,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Operator } from '../src/main.js';
import {
  adminKc,
  applyCrd,
  capturingLogger,
  createAutoscaler,
  createDeployment,
  deployObjects,
  eventReasons,
  impersonatingKc,
  namespace,
  readAutoscaler,
  replicasOf,
  specWithRps,
  testConfig,
  waitUntil,
} from './helpers.js';

let kc: KubeConfig;
let ns: string;
let dropNs: () => Promise<void>;
let user: string;
const created: KubernetesObject[] = [];

/** rbac.yaml, moved into the test's namespace and with cluster-scoped names made unique. */
function rbacFor(namespaceName: string): KubernetesObject[] {
  return deployObjects('rbac.yaml').map((o) => {
    const obj = structuredClone(o) as KubernetesObject & {
      subjects?: Array<{ namespace?: string }>;
      roleRef?: { name: string; kind: string };
    };
    const meta = (obj.metadata ??= {});
    if (obj.kind === 'ClusterRole' || obj.kind === 'ClusterRoleBinding')
      meta.name = `${meta.name}-${namespaceName}`;
    else meta.namespace = namespaceName;
    if (obj.roleRef?.kind === 'ClusterRole')
      obj.roleRef.name = `${obj.roleRef.name}-${namespaceName}`;
    for (const s of obj.subjects ?? []) s.namespace = namespaceName;
    return obj;
  });
}

beforeAll(async () => {
  kc = adminKc();
  await applyCrd(kc);
  [ns, dropNs] = await namespace(kc, 'op-rbac');
  const objects = kc.makeApiClient(KubernetesObjectApi);
  for (const o of rbacFor(ns)) created.push(await objects.create(o));
  user = `system:serviceaccount:${ns}:flashsale-operator`;
});

afterAll(async () => {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  for (const o of created)
    if (o.kind?.startsWith('Cluster')) await objects.delete(o).catch(() => undefined);
  await dropNs?.();
});

describe('RBAC', () => {
  it('when the operator runs as its ServiceAccount with exactly rbac.yaml, then every call it makes is allowed', async () => {
    const { log, lines } = capturingLogger();
    const op: Operator = await start({
      kc: impersonatingKc(user),
      config: testConfig(ns, { WATCH_NAMESPACE: ns, LEASE_NAME: 'flashsale-operator' }),
      log,
    });
    try {
      await waitUntil('leader', 20_000, () => Promise.resolve(op.isLeader()));
      await createDeployment(kc, ns, 'reservation', 4);
      await createAutoscaler(kc, ns, 'reservation', specWithRps(2400));
      await waitUntil(
        'scaled to 5',
        30_000,
        async () => (await replicasOf(kc, ns, 'reservation')) === 5,
      );
      await waitUntil(
        'status',
        20_000,
        async () => (await readAutoscaler(kc, ns, 'reservation')).status?.desiredReplicas === 5,
      );

      // A crash-looping pod: list + delete pods, and a PodRestarted Event.
      const core = kc.makeApiClient(CoreV1Api);
      let pods: V1Pod[] = [];
      await waitUntil('5 pods', 30_000, async () => {
        pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=reservation' }))
          .items;
        return pods.length === 5;
      });
      const victim = pods[0] as V1Pod;
      await core.patchNamespacedPodStatus(
        {
          name: victim.metadata?.name ?? '',
          namespace: ns,
          body: {
            status: {
              phase: 'Running',
              containerStatuses: [
                {
                  name: 'app',
                  image: 'x',
                  imageID: '',
                  ready: false,
                  restartCount: 4,
                  state: { waiting: { reason: 'CrashLoopBackOff' } },
                },
              ],
            },
          },
        },
        setHeaderOptions('Content-Type', 'application/merge-patch+json'),
      );
      await waitUntil('victim deleted', 30_000, async () => {
        const now = (
          await core.listNamespacedPod({ namespace: ns, labelSelector: 'app=reservation' })
        ).items;
        return !now.some((p) => p.metadata?.uid === victim.metadata?.uid);
      });
      await waitUntil('events recorded', 10_000, async () => {
        const r = await eventReasons(kc, ns);
        return r.includes('ScaledUp') && r.includes('PodRestarted');
      });
    } finally {
      await op.stop();
    }
    // Released on stop: the holder is cleared (get + update on the named Lease).
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'flashsale-operator', namespace: ns });
    expect(lease.spec?.holderIdentity ?? '').toBe('');
    expect(lines.filter((l) => /forbidden|\b403\b/i.test(JSON.stringify(l)))).toEqual([]);
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
  });

  it('when asked for anything beyond its job, then the API server says no (least privilege)', async () => {
    const authz = kc.makeApiClient(AuthorizationV1Api);
    const can = async (
      verb: string,
      group: string,
      resource: string,
      opts: { sub?: string; name?: string; namespace?: string } = {},
    ) => {
      const r = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user,
            groups: [
              'system:serviceaccounts',
              `system:serviceaccounts:${ns}`,
              'system:authenticated',
            ],
            resourceAttributes: {
              verb,
              group,
              resource,
              subresource: opts.sub,
              name: opts.name,
              namespace: opts.namespace ?? ns,
            },
          },
        },
      });
      return r.status?.allowed === true;
    };
    // What it needs: in its namespace only.
    expect(await can('watch', 'flashsale.dev', 'reservationautoscalers')).toBe(true);
    expect(await can('patch', 'flashsale.dev', 'reservationautoscalers', { sub: 'status' })).toBe(
      true,
    );
    expect(await can('patch', 'apps', 'deployments', { sub: 'scale' })).toBe(true);
    expect(await can('delete', '', 'pods')).toBe(true);
    expect(
      await can('update', 'coordination.k8s.io', 'leases', { name: 'flashsale-operator' }),
    ).toBe(true);
    // What it must not do: other namespaces (a second release's), cluster-wide, beyond its job.
    expect(await can('watch', 'flashsale.dev', 'reservationautoscalers', { namespace: '' })).toBe(
      false,
    );
    expect(await can('patch', 'apps', 'deployments', { sub: 'scale', namespace: 'default' })).toBe(
      false,
    );
    expect(await can('delete', '', 'pods', { namespace: 'default' })).toBe(false);
    expect(await can('update', 'apps', 'deployments')).toBe(false);
    expect(await can('patch', 'flashsale.dev', 'reservationautoscalers')).toBe(false);
    expect(await can('create', '', 'pods')).toBe(false);
    expect(await can('get', '', 'secrets')).toBe(false);
    expect(
      await can('update', 'coordination.k8s.io', 'leases', { name: 'someone-elses-lease' }),
    ).toBe(false);
    expect(
      await can('update', 'coordination.k8s.io', 'leases', {
        name: 'flashsale-operator',
        namespace: 'kube-system',
      }),
    ).toBe(false);
  });
});
