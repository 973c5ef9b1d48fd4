import { AppsV1Api, CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';

/** The installed system the runners aim at, found in its namespace (chart or smoke manifests). */
export interface Target {
  namespace: string;
  /** "name:port" for the API server's Service proxy. */
  serviceRef: string;
  /** The reservation container's port (port-forwards go to a pod). */
  podPort: number;
  /** The Service's in-cluster URL, for the k6 pods. */
  baseUrl: string;
  adminSecret: { name: string; key: string };
  adminToken: string;
  /** The service's DATABASE_URL (its host is a cluster name: reach it through a port-forward). */
  databaseUrl?: string;
}

/**
 * Finds the reservation Service, and reads from the reservation Deployment's own environment
 * where its admin token and database URL come from (a Secret reference, or a value built from
 * other variables, as the chart's `postgres://user:$(DB_PASSWORD)@...`), so the runners work on the
 * chart and on the stand-in stack alike.
 */
export async function findTarget(kc: KubeConfig, namespace: string): Promise<Target> {
  const core = kc.makeApiClient(CoreV1Api);
  const services = (await core.listNamespacedService({ namespace })).items;
  const svc = services.find(
    (s) => s.metadata?.name === 'reservation' || s.metadata?.name?.endsWith('-reservation'),
  );
  if (!svc?.metadata?.name)
    throw new Error(
      `no reservation Service in namespace ${namespace} (install the system first: make up, or make load-stack-up)`,
    );
  const port = svc.spec?.ports?.[0];
  const deploys = (await kc.makeApiClient(AppsV1Api).listNamespacedDeployment({ namespace })).items;
  const deploy = deploys.find((d) => d.metadata?.name?.includes('reservation'));
  const env = deploy?.spec?.template.spec?.containers[0]?.env ?? [];
  const admin = env.find((e) => e.name === 'ADMIN_TOKEN')?.valueFrom?.secretKeyRef;
  if (!admin?.name || !admin.key)
    throw new Error(
      `the reservation Deployment in ${namespace} takes no ADMIN_TOKEN from a Secret`,
    );
  const adminSecret = { name: admin.name, key: admin.key };
  const secrets = new Map<string, Record<string, string>>();
  const read = async (ref: { name: string; key: string }) => {
    if (!secrets.has(ref.name))
      secrets.set(
        ref.name,
        (await core.readNamespacedSecret({ name: ref.name, namespace })).data ?? {},
      );
    return Buffer.from(secrets.get(ref.name)?.[ref.key] ?? '', 'base64').toString();
  };
  const resolve = async (name: string, depth = 0): Promise<string | undefined> => {
    const e = env.find((x) => x.name === name);
    if (!e || depth > 3) return undefined;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref?.name && ref.key) return read({ name: ref.name, key: ref.key });
    let value = e.value ?? '';
    for (const m of [...value.matchAll(/\$\(([A-Z0-9_]+)\)/g)])
      value = value.replace(m[0], (await resolve(m[1] as string, depth + 1)) ?? m[0]);
    return value;
  };
  return {
    namespace,
    serviceRef: `${svc.metadata.name}:${port?.name ?? port?.port ?? 80}`,
    podPort: typeof port?.targetPort === 'number' ? port.targetPort : 8080,
    baseUrl: `http://${svc.metadata.name}.${namespace}.svc:${port?.port ?? 80}`,
    adminSecret,
    adminToken: await read(adminSecret),
    databaseUrl: await resolve('DATABASE_URL'),
  };
}

export type Role = 'reservation' | 'postgres' | 'redis' | 'nats';

/** The component a pod belongs to, from its labels (chart or smoke manifests) or its name. */
export function roleOf(pod: V1Pod): Role | undefined {
  const l = pod.metadata?.labels ?? {};
  const hints = [
    l['app.kubernetes.io/component'],
    l['app.kubernetes.io/name'],
    pod.metadata?.name,
  ].filter((x): x is string => typeof x === 'string');
  for (const role of ['reservation', 'postgres', 'redis', 'nats'] as const)
    if (hints.some((h) => h === role || h.includes(role))) return role;
  return undefined;
}

/** The live (not terminating) pods of a component. */
export async function podsOf(kc: KubeConfig, namespace: string, role: Role): Promise<V1Pod[]> {
  const pods = (await kc.makeApiClient(CoreV1Api).listNamespacedPod({ namespace })).items;
  return pods.filter(
    (p) =>
      roleOf(p) === role &&
      !p.metadata?.deletionTimestamp &&
      !p.metadata?.labels?.['job-name'] &&
      p.status?.phase === 'Running',
  );
}

/** Waits until the reservation, Postgres, Redis and NATS workloads have all their replicas ready and updated. */
export async function waitAllReady(
  kc: KubeConfig,
  namespace: string,
  timeoutMs: number,
  log: (msg: string) => void,
): Promise<boolean> {
  const apps = kc.makeApiClient(AppsV1Api);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = (await apps.listNamespacedDeployment({ namespace })).items;
    const s = (await apps.listNamespacedStatefulSet({ namespace })).items;
    const notReady = [
      ...d.map((x) => ({
        n: x.metadata?.name,
        want: x.spec?.replicas ?? 1,
        have: x.status?.readyReplicas ?? 0,
        upd: x.status?.updatedReplicas ?? 0,
      })),
      ...s.map((x) => ({
        n: x.metadata?.name,
        want: x.spec?.replicas ?? 1,
        have: x.status?.readyReplicas ?? 0,
        upd: x.status?.updatedReplicas ?? 0,
      })),
    ]
      // Only the components the runs depend on (a broken optional one, e.g. Prometheus, is not
      // what a load or chaos verdict is about).
      .filter((x) => ['reservation', 'postgres', 'redis', 'nats'].some((r) => x.n?.includes(r)))
      .filter((x) => x.have < x.want || x.upd < x.want);
    if (notReady.length === 0) return true;
    if (Date.now() > deadline) return false;
    log(`waiting for Ready: ${notReady.map((x) => `${x.n} ${x.have}/${x.want}`).join(', ')}`);
    await sleep(2000);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
