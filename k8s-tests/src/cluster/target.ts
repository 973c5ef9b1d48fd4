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
  databaseSecret?: { name: string; key: string };
}

const ADMIN_KEYS = ['admin-token', 'adminToken', 'ADMIN_TOKEN'];
const DB_KEYS = ['database-url', 'databaseUrl', 'DATABASE_URL'];

/** Finds the reservation Service and the Secrets holding the admin token and the database URL. */
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
  const secrets = (await core.listNamespacedSecret({ namespace })).items;
  const find = (keys: string[]) => {
    for (const s of secrets)
      for (const k of keys)
        if (s.data?.[k] && s.metadata?.name) return { name: s.metadata.name, key: k };
    return undefined;
  };
  const adminSecret = find(ADMIN_KEYS);
  if (!adminSecret)
    throw new Error(`no Secret in ${namespace} holds the admin token (${ADMIN_KEYS.join(', ')})`);
  const data = secrets.find((s) => s.metadata?.name === adminSecret.name)?.data ?? {};
  return {
    namespace,
    serviceRef: `${svc.metadata.name}:${port?.name ?? port?.port ?? 80}`,
    podPort: typeof port?.targetPort === 'number' ? port.targetPort : 8080,
    baseUrl: `http://${svc.metadata.name}.${namespace}.svc:${port?.port ?? 80}`,
    adminSecret,
    adminToken: Buffer.from(data[adminSecret.key] ?? '', 'base64').toString(),
    databaseSecret: find(DB_KEYS),
  };
}

/** Reads one key of a Secret. */
export async function secretValue(
  kc: KubeConfig,
  namespace: string,
  ref: { name: string; key: string },
): Promise<string> {
  const s = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: ref.name, namespace });
  return Buffer.from(s.data?.[ref.key] ?? '', 'base64').toString();
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

/** Waits until every Deployment and StatefulSet of the namespace has all its replicas ready. */
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
    ].filter((x) => x.have < x.want || x.upd < x.want);
    if (notReady.length === 0) return true;
    if (Date.now() > deadline) return false;
    log(`waiting for Ready: ${notReady.map((x) => `${x.n} ${x.have}/${x.want}`).join(', ')}`);
    await sleep(2000);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
