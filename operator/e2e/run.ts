// make operator-e2e (via run.sh): the operator of the Helm chart on the host cluster. Each phase
// measures one of the figures; the report is written even when a phase fails, and the exit
// code is non-zero when scaling, pre-scale, remediation or failover did not happen.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';

// Defaults: the names the Helm chart gives release `flashsale` (its Prometheus is a StatefulSet).
const env = process.env;
const NS = env.E2E_NAMESPACE ?? 'flashsale';
const TARGET = env.E2E_TARGET ?? 'flashsale-reservation';
const AUTOSCALER = env.E2E_AUTOSCALER ?? 'flashsale-reservation';
const LEASE = env.E2E_LEASE ?? 'flashsale-operator';
const PROMETHEUS = env.E2E_PROMETHEUS_STATEFULSET ?? 'flashsale-prometheus';
const SERVICE_URL = env.E2E_SERVICE_URL ?? `http://${TARGET}.${NS}.svc`;
const ADMIN_SECRET = env.E2E_ADMIN_TOKEN_SECRET ?? 'flashsale-admin';
const KUBECTL = env.E2E_KUBECTL ?? 'kubectl';
const LOAD_RATE = Number(env.E2E_LOAD_RATE ?? 1500);
const LOAD_SECONDS = Number(env.E2E_LOAD_SECONDS ?? 90);
const WINDOW_SECONDS = Number(env.E2E_SCALE_DOWN_WAIT ?? 420);

const kc = new KubeConfig();
kc.loadFromDefault();
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const leases = kc.makeApiClient(CoordinationV1Api);
const sh = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const t0 = Date.now();
const log = (phase: string, msg: string) =>
  process.stderr.write(
    `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${phase.padEnd(14)} ${msg}\n`,
  );

const report: Record<string, number | boolean | null> = {
  scaleUpDecisionSeconds: null,
  scaleUpReadySeconds: null,
  preScaleLeadSeconds: null,
  scaleDownSeconds: null,
  maxReplicas: null,
  flaps: null,
  heldDuringMetricsOutage: null,
  remediationSeconds: null,
  failoverSeconds: null,
};

/** Replicas over time, sampled every second by a background loop: flaps and maxima come from it. */
const series: Array<{ t: number; replicas: number }> = [];
let sampling = true;
async function sample(): Promise<void> {
  while (sampling) {
    const s = await apps
      .readNamespacedDeploymentScale({ name: TARGET, namespace: NS })
      .catch(() => undefined);
    if (s) series.push({ t: Date.now(), replicas: s.spec?.replicas ?? 0 });
    await sleep(1000);
  }
}
const replicasNow = () => series[series.length - 1]?.replicas ?? 0;

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
): Promise<number | null> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    if (await check()) return (Date.now() - start) / 1000;
    await sleep(500);
  }
  log('timeout', `${what}: not within ${timeoutMs / 1000}s`);
  return null;
}

async function status(): Promise<{ desiredReplicas?: number; lastReason?: string }> {
  const o = (await custom.getNamespacedCustomObject({
    group: 'flashsale.dev',
    version: 'v1alpha1',
    namespace: NS,
    plural: 'reservationautoscalers',
    name: AUTOSCALER,
  })) as { status?: { desiredReplicas?: number; lastReason?: string } };
  return o.status ?? {};
}

async function adminToken(): Promise<string> {
  const s = await core.readNamespacedSecret({ name: ADMIN_SECRET, namespace: NS });
  const v = Object.values(s.data ?? {})[0];
  return v ? Buffer.from(v, 'base64').toString() : '';
}

async function phaseLoad(): Promise<void> {
  log('load', `k6 Job: ${LOAD_RATE} rps for ${LOAD_SECONDS}s against ${SERVICE_URL}`);
  const before = replicasNow();
  const script = readFileSync(new URL('./load.js', import.meta.url), 'utf8');
  await core
    .deleteNamespacedConfigMap({ name: 'operator-e2e-load', namespace: NS })
    .catch(() => undefined);
  await core.createNamespacedConfigMap({
    namespace: NS,
    body: { metadata: { name: 'operator-e2e-load' }, data: { 'load.js': script } },
  });
  await batch
    .deleteNamespacedJob({
      name: 'operator-e2e-load',
      namespace: NS,
      propagationPolicy: 'Background',
    })
    .catch(() => undefined);
  await sleep(2000);
  await batch.createNamespacedJob({
    namespace: NS,
    body: {
      metadata: { name: 'operator-e2e-load' },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: LOAD_SECONDS + 120,
        template: {
          metadata: { labels: { app: 'operator-e2e-load' } },
          spec: {
            restartPolicy: 'Never',
            containers: [
              {
                name: 'k6',
                image: 'flashsale/k6:dev',
                args: ['run', '/scripts/load.js'],
                env: [
                  { name: 'BASE_URL', value: SERVICE_URL },
                  { name: 'RATE', value: String(LOAD_RATE) },
                  { name: 'SECONDS', value: String(LOAD_SECONDS) },
                  { name: 'ADMIN_TOKEN', value: await adminToken() },
                ],
                volumeMounts: [{ name: 'scripts', mountPath: '/scripts' }],
              },
            ],
            volumes: [{ name: 'scripts', configMap: { name: 'operator-e2e-load' } }],
          },
        },
      },
    },
  });
  const start = Date.now();
  report.scaleUpDecisionSeconds = await waitFor(
    'scale-up decision',
    120_000,
    async () => ((await status()).desiredReplicas ?? 0) > before,
  );
  report.scaleUpReadySeconds = await waitFor('scaled pods ready', 180_000, async () => {
    const d = await apps.readNamespacedDeployment({ name: TARGET, namespace: NS });
    return (
      (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) && (d.spec?.replicas ?? 0) > before
    );
  }).then((s) => (s === null ? null : (Date.now() - start) / 1000));
  await waitFor('load finished', (LOAD_SECONDS + 150) * 1000, async () => {
    const j = await batch.readNamespacedJob({ name: 'operator-e2e-load', namespace: NS });
    return Boolean(j.status?.succeeded || j.status?.failed);
  });
  const peak = replicasNow();
  const end = Date.now();
  log(
    'scale-down',
    `load over at ${peak} replicas; waiting up to ${WINDOW_SECONDS}s for the window and the steps`,
  );
  const min = await apps
    .readNamespacedDeploymentScale({ name: TARGET, namespace: NS })
    .then(() => before);
  const down = await waitFor('scaled back down', WINDOW_SECONDS * 1000, () => replicasNow() <= min);
  report.scaleDownSeconds = down === null ? null : (Date.now() - end) / 1000;
}

async function phasePreScale(): Promise<void> {
  const lead = 60;
  const before = replicasNow();
  const startsAt = new Date(Date.now() + lead * 1000);
  log('pre-scale', `sale created to open at ${startsAt.toISOString()}`);
  const res = await fetchViaKubectl('/v1/events', {
    name: 'operator-e2e sale',
    capacity: 800,
    saleStartsAt: startsAt.toISOString(),
  });
  if (!res) return;
  await waitFor('pre-scale', (lead + 5) * 1000, () => replicasNow() > before);
  const rose = series.find(
    (s) => s.t >= startsAt.getTime() - lead * 1000 - 5000 && s.replicas > before,
  );
  report.preScaleLeadSeconds =
    rose && rose.t <= startsAt.getTime() ? Math.round((startsAt.getTime() - rose.t) / 1000) : null;
}

/** POST to the reservation API from inside the cluster (a one-off curl-free node pod is overkill: use the k6 image's http). */
async function fetchViaKubectl(path: string, body: unknown): Promise<boolean> {
  const token = await adminToken();
  const { stdout } = await sh(KUBECTL, [
    '-n',
    NS,
    'exec',
    `deploy/${TARGET}`,
    '--',
    'node',
    '-e',
    `fetch('http://127.0.0.1:8080${path}',{method:'POST',headers:{'content-type':'application/json',authorization:'Bearer ${token}'},body:${JSON.stringify(JSON.stringify(body))}}).then(r=>console.log(r.status))`,
  ]);
  log('api', `POST ${path} → ${stdout.trim()}`);
  return stdout.trim() === '201';
}

async function phaseRemediation(): Promise<void> {
  // The target's own selector, whatever labels the chart gives it.
  const scale = await apps.readNamespacedDeploymentScale({ name: TARGET, namespace: NS });
  const pods = (
    await core.listNamespacedPod({ namespace: NS, labelSelector: scale.status?.selector ?? '' })
  ).items;
  const victim = pods.find((p) => p.status?.phase === 'Running');
  if (!victim?.metadata?.name) {
    log('remediation', 'no running pod to crash');
    return;
  }
  const name = victim.metadata.name;
  log('remediation', `crash-looping ${name} (killing its process until CrashLoopBackOff)`);
  let looping: number | undefined;
  const gone = await waitFor('pod replaced', 300_000, async () => {
    const p = await core.readNamespacedPod({ name, namespace: NS }).catch(() => undefined);
    if (!p || p.metadata?.uid !== victim.metadata?.uid || p.metadata?.deletionTimestamp)
      return true;
    const waiting = p.status?.containerStatuses?.some(
      (c) => c.state?.waiting?.reason === 'CrashLoopBackOff',
    );
    if (waiting && looping === undefined) looping = Date.now();
    if (p.status?.containerStatuses?.every((c) => c.state?.running)) {
      await sh(KUBECTL, [
        '-n',
        NS,
        'exec',
        name,
        '--',
        'node',
        '-e',
        'process.kill(1, "SIGKILL")',
      ]).catch(() => undefined);
    }
    return false;
  });
  report.remediationSeconds = gone === null ? null : looping ? (Date.now() - looping) / 1000 : 0;
}

async function phaseMetricsOutage(): Promise<void> {
  log('outage', `scaling ${PROMETHEUS} to 0 for 90s`);
  const before = replicasNow();
  const from = Date.now();
  await sh(KUBECTL, ['-n', NS, 'scale', `statefulset/${PROMETHEUS}`, '--replicas=0']);
  await sleep(90_000);
  await sh(KUBECTL, ['-n', NS, 'scale', `statefulset/${PROMETHEUS}`, '--replicas=1']);
  report.heldDuringMetricsOutage = series
    .filter((s) => s.t >= from)
    .every((s) => s.replicas >= before);
}

async function phaseFailover(): Promise<void> {
  const lease = await leases.readNamespacedLease({ name: LEASE, namespace: NS });
  const leader = lease.spec?.holderIdentity;
  if (!leader) {
    log('failover', 'no leader in the Lease');
    return;
  }
  log('failover', `deleting the leader pod ${leader}`);
  const start = Date.now();
  await core.deleteNamespacedPod({ name: leader, namespace: NS, gracePeriodSeconds: 0 });
  const took = await waitFor('another leader', 60_000, async () => {
    const l = await leases.readNamespacedLease({ name: LEASE, namespace: NS });
    return Boolean(l.spec?.holderIdentity) && l.spec?.holderIdentity !== leader;
  });
  report.failoverSeconds = took === null ? null : (Date.now() - start) / 1000;
}

function flaps(): number {
  let dir = 0;
  let n = 0;
  for (let i = 1; i < series.length; i++) {
    const d = Math.sign((series[i]?.replicas ?? 0) - (series[i - 1]?.replicas ?? 0));
    if (d !== 0 && dir !== 0 && d !== dir) n++;
    if (d !== 0) dir = d;
  }
  return n;
}

async function main(): Promise<void> {
  const sampler = sample();
  await sleep(1500);
  for (const [name, phase] of [
    ['load', phaseLoad],
    ['pre-scale', phasePreScale],
    ['remediation', phaseRemediation],
    ['outage', phaseMetricsOutage],
    ['failover', phaseFailover],
  ] as const) {
    try {
      await phase();
    } catch (err) {
      log(name, `failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  sampling = false;
  await sampler;
  report.maxReplicas = Math.max(...series.map((s) => s.replicas));
  report.flaps = flaps();
  writeFileSync('reports/operator-e2e.json', JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`${JSON.stringify(report)}\n`);
  const missing = [
    'scaleUpDecisionSeconds',
    'preScaleLeadSeconds',
    'remediationSeconds',
    'failoverSeconds',
  ].filter((k) => report[k] === null);
  if (missing.length) {
    log('result', `FAILED: no ${missing.join(', ')}`);
    process.exit(1);
  }
  log('result', 'scaling, pre-scale, remediation and failover all happened');
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
