// make operator-e2e (via run.sh): the operator of the Helm chart on the host cluster, phase by phase:
//   load     k6 (a Job) drives POST reservations → the operator scales up (decision, then pods Ready)
//   outage   Prometheus scaled to 0 right after the load, replicas still high → nothing scaled down
//   down     Prometheus back → replicas fall to the minimum after the stabilization window, no flaps
//   prescale a sale created to open 45 s later → replicas rise before it opens (the schedule alone)
//   remedy   one reservation pod made to crash-loop → the operator deletes it, its ReplicaSet replaces it
//   failover the leader pod deleted without grace → the standby takes the Lease
// Every figure is measured on the cluster (timestamps of the API objects where they exist, else
// this runner's 0.5 s polls). The report is written even when a phase fails; the exit code is 1
// when scaling, pre-scale, remediation or failover did not happen, or replicas dropped during the
// outage. The Job, its ConfigMap and Prometheus's replicas are restored also on Ctrl-C.
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
  PatchStrategy,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { parseSpec, type AutoscalerSpec, type AutoscalerStatus } from '../src/spec.js';

const env = process.env;
const NS = env.E2E_NAMESPACE ?? 'flashsale';
const RELEASE = env.E2E_RELEASE ?? 'flashsale';
// The chart's names: <fullname>-<component>, fullname = the release when it contains "flashsale".
const FULL = RELEASE.includes('flashsale') ? RELEASE : `${RELEASE}-flashsale`;
const TARGET = `${FULL}-reservation`;
const AUTOSCALER = `${FULL}-reservation`;
const OPERATOR = `${FULL}-operator`;
const LEASE = OPERATOR;
const PROMETHEUS = `${FULL}-prometheus`;
const ADMIN_SECRET = { name: `${FULL}-admin`, key: 'admin-token' };
const SERVICE_URL = `http://${TARGET}.${NS}.svc`;
const KUBECTL = env.E2E_KUBECTL ?? 'kubectl';
const K6_IMAGE = env.E2E_K6_IMAGE ?? 'docker.io/flashsale/k6:dev';
const LOAD_RATE = Number(env.E2E_LOAD_RATE ?? 200);
const LOAD_SECONDS = Number(env.E2E_LOAD_SECONDS ?? 60);
const OUTAGE_SECONDS = Number(env.E2E_OUTAGE_SECONDS ?? 45);
const SALE_IN_SECONDS = Number(env.E2E_SALE_IN_SECONDS ?? 45);
const RUN = Date.now().toString(36);
const LOAD_NAME = `operator-e2e-load-${RUN}`;

const kc = new KubeConfig();
kc.loadFromDefault();
const apps = kc.makeApiClient(AppsV1Api);
const core = kc.makeApiClient(CoreV1Api);
const batch = kc.makeApiClient(BatchV1Api);
const custom = kc.makeApiClient(CustomObjectsApi);
const leases = kc.makeApiClient(CoordinationV1Api);
const sh = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => Math.round(ms / 100) / 10;
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));
const t0 = Date.now();
const log = (phase: string, msg: string) =>
  process.stderr.write(
    `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] ${phase.padEnd(14)} ${msg}\n`,
  );

/** The figures the issue asks for, plus the context needed to judge them. */
const report: Record<string, number | boolean | string | null> = {
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
const failures: string[] = [];

// ---- cluster state -------------------------------------------------------------------------

/** Replicas over time (the Deployment's spec.replicas), sampled every second in the background. */
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

interface Autoscaler {
  spec: AutoscalerSpec;
  status: AutoscalerStatus;
}
async function autoscaler(): Promise<Autoscaler> {
  const o = (await custom.getNamespacedCustomObject({
    group: 'flashsale.dev',
    version: 'v1alpha1',
    namespace: NS,
    plural: 'reservationautoscalers',
    name: AUTOSCALER,
  })) as { spec?: unknown; status?: AutoscalerStatus };
  return { spec: parseSpec(o.spec), status: o.status ?? {} };
}

/** The target Deployment: replicas asked for, pods Ready, pods existing (not yet terminated). */
async function deployment(): Promise<{ replicas: number; ready: number; pods: number }> {
  const d = await apps.readNamespacedDeployment({ name: TARGET, namespace: NS });
  return {
    replicas: d.spec?.replicas ?? 0,
    ready: d.status?.readyReplicas ?? 0,
    pods: d.status?.replicas ?? 0,
  };
}

/** One progress line: the Deployment, and the operator's last decision with its inputs. */
async function stateLine(phase: string, extra = ''): Promise<void> {
  let d: { replicas: number; ready: number };
  let a: Autoscaler;
  try {
    [d, a] = await Promise.all([deployment(), autoscaler()]);
  } catch (err) {
    log(phase, `${extra} (state unreadable: ${errMsg(err)})`);
    return;
  }
  const s = a.status;
  // Why a signal is missing, as the operator wrote it.
  const missing = s.conditions?.find(
    (c) => c.type === 'MetricsAvailable' && c.status === 'False',
  )?.message;
  log(
    phase,
    `${extra}${extra ? '; ' : ''}replicas ${d.replicas} (${d.ready} ready), desired ${s.desiredReplicas ?? '?'}, ` +
      `rps ${s.observedRps ?? 'n/a'}, backlog ${s.observedBacklog ?? 'n/a'}, ${s.lastReason ?? '?'}` +
      (missing ? ` (${missing})` : ''),
  );
}

/**
 * Polls `check` every 500 ms until it answers true or `timeoutMs` passes (a progress line every
 * 5 s); resolves with the time it answered true, or null.
 */
async function waitFor(
  phase: string,
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean> | boolean,
): Promise<number | null> {
  const start = Date.now();
  let noted = start;
  while (Date.now() - start < timeoutMs) {
    if (await Promise.resolve(check()).catch(() => false)) return Date.now();
    if (Date.now() - noted >= 5000) {
      noted = Date.now();
      await stateLine(phase, `waiting for ${what} (${Math.round((noted - start) / 1000)}s)`);
    }
    await sleep(500);
  }
  log(phase, `TIMEOUT: ${what} not within ${timeoutMs / 1000}s`);
  return null;
}

async function targetPods(): Promise<V1Pod[]> {
  const scale = await apps.readNamespacedDeploymentScale({ name: TARGET, namespace: NS });
  return (
    await core.listNamespacedPod({ namespace: NS, labelSelector: scale.status?.selector ?? '' })
  ).items;
}

// ---- cleanup (also on Ctrl-C) -----------------------------------------------------------------

let prometheusReplicas: number | undefined;
let loadCreated = false;
async function cleanup(): Promise<void> {
  await thaw();
  if (prometheusReplicas !== undefined) {
    log('cleanup', `Prometheus back to ${prometheusReplicas} replica(s)`);
    await setPrometheus(prometheusReplicas).catch((e: unknown) => log('cleanup', errMsg(e)));
    prometheusReplicas = undefined;
  }
  if (loadCreated) {
    loadCreated = false;
    await batch
      .deleteNamespacedJob({ name: LOAD_NAME, namespace: NS, propagationPolicy: 'Background' })
      .catch(() => undefined);
    await core.deleteNamespacedConfigMap({ name: LOAD_NAME, namespace: NS }).catch(() => undefined);
    log('cleanup', `Job and ConfigMap ${LOAD_NAME} deleted`);
  }
}
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    log('interrupted', `${sig}: cleaning up`);
    sampling = false;
    void cleanup().finally(() => process.exit(130));
  });

async function setPrometheus(replicas: number): Promise<void> {
  await apps.patchNamespacedStatefulSetScale(
    { name: PROMETHEUS, namespace: NS, body: { spec: { replicas } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
}

// ---- phases -----------------------------------------------------------------------------------

let spec: AutoscalerSpec;

async function preflight(): Promise<void> {
  spec = (await autoscaler()).spec;
  log(
    'preflight',
    `${AUTOSCALER}: min ${spec.minReplicas}, max ${spec.maxReplicas}, ${spec.targetRpsPerReplica} rps/replica, ` +
      `scale-down window ${spec.behavior.scaleDown.stabilizationWindowSeconds}s, pre-scale lead ${spec.preScale.leadSeconds}s, ` +
      `restart threshold ${spec.remediation.restartThreshold}`,
  );
  const lease = await leases.readNamespacedLease({ name: LEASE, namespace: NS });
  log(
    'preflight',
    `leader ${lease.spec?.holderIdentity ?? '(none)'}, lease ${lease.spec?.leaseDurationSeconds}s`,
  );
  // A steady start: at the minimum, every pod Ready, no pre-scale floor left from an earlier run.
  // (Twice 3 s apart: a scale-down just written still has its old pods counted.)
  const settled = async () => {
    const [d, a] = await Promise.all([deployment(), autoscaler()]);
    return (
      d.replicas === spec.minReplicas &&
      d.ready === d.replicas &&
      d.pods === d.replicas &&
      !a.status.preScale
    );
  };
  const steady = await waitFor('preflight', 'a steady start at the minimum', 240_000, async () => {
    if (!(await settled())) return false;
    await sleep(3000);
    return settled();
  });
  if (steady === null)
    throw new Error(`not at ${spec.minReplicas} Ready replicas without a pre-scale floor`);
}

async function phaseLoad(): Promise<number | null> {
  const before = (await deployment()).replicas;
  log(
    'load',
    `k6 Job ${LOAD_NAME}: ${LOAD_RATE} rps for ${LOAD_SECONDS}s against ${SERVICE_URL} (${K6_IMAGE})`,
  );
  const labels = { 'app.kubernetes.io/name': 'operator-e2e-load', 'flashsale.dev/run': RUN };
  loadCreated = true;
  await core.createNamespacedConfigMap({
    namespace: NS,
    body: {
      metadata: { name: LOAD_NAME, labels },
      data: { 'load.js': readFileSync(new URL('./load.js', import.meta.url), 'utf8') },
    },
  });
  await batch.createNamespacedJob({
    namespace: NS,
    body: {
      metadata: { name: LOAD_NAME, labels },
      spec: {
        backoffLimit: 0,
        activeDeadlineSeconds: LOAD_SECONDS + 120,
        ttlSecondsAfterFinished: 600,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            // The namespace enforces the restricted Pod Security level.
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'k6',
                image: K6_IMAGE,
                imagePullPolicy: 'IfNotPresent',
                args: ['run', '--quiet', '--no-color', '/scripts/load.js'],
                env: [
                  { name: 'BASE_URL', value: SERVICE_URL },
                  { name: 'RATE', value: String(LOAD_RATE) },
                  { name: 'SECONDS', value: String(LOAD_SECONDS) },
                  { name: 'ADMIN_TOKEN', valueFrom: { secretKeyRef: ADMIN_SECRET } },
                ],
                resources: {
                  requests: { cpu: '100m', memory: '128Mi' },
                  limits: { memory: '512Mi' },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [
                  { name: 'scripts', mountPath: '/scripts', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'scripts', configMap: { name: LOAD_NAME } },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
  });
  // The load starts when k6's container does (its setup creates the event in well under a second).
  let loadPod = '';
  let loadStart = 0;
  await waitFor('load', 'the k6 pod running', 60_000, async () => {
    const pods = await core.listNamespacedPod({
      namespace: NS,
      labelSelector: `flashsale.dev/run=${RUN}`,
    });
    const p = pods.items[0];
    const started = p?.status?.containerStatuses?.[0]?.state?.running?.startedAt;
    if (!p || !started) return false;
    loadPod = p.metadata?.name ?? '';
    loadStart = new Date(started).getTime();
    return true;
  });
  if (!loadStart) throw new Error('the k6 pod did not start');
  log('load', `k6 running in ${loadPod} since ${new Date(loadStart).toISOString()}`);

  // The decision: the operator's own lastScaleTime of its first scale-up above `before`.
  let decision: AutoscalerStatus = {};
  const decided = await waitFor('load', 'a scale-up decision', LOAD_SECONDS * 1000, async () => {
    decision = (await autoscaler()).status;
    return (decision.desiredReplicas ?? 0) > before && Boolean(decision.lastScaleTime);
  });
  if (decided !== null) {
    const s = decision;
    const at = Date.parse(s.lastScaleTime ?? '');
    report.scaleUpDecisionSeconds = secs((Number.isFinite(at) ? at : decided) - loadStart);
    report.scaleUpReason = s.lastReason ?? null;
    log(
      'load',
      `decided ${s.desiredReplicas} replicas (${s.lastReason}) ${report.scaleUpDecisionSeconds}s after the load started; rps ${s.observedRps}`,
    );
  } else failures.push('no scale-up decision during the load');

  const ready = await waitFor('load', 'the scaled pods Ready', LOAD_SECONDS * 1000, async () => {
    const d = await deployment();
    return d.replicas > before && d.ready >= d.replicas;
  });
  if (ready !== null) {
    report.scaleUpReadySeconds = secs(ready - loadStart);
    log(
      'load',
      `${replicasNow()} replicas Ready ${report.scaleUpReadySeconds}s after the load started`,
    );
  }

  const done = await waitFor(
    'load',
    'the k6 Job to finish',
    (LOAD_SECONDS + 90) * 1000,
    async () => {
      const j = await batch.readNamespacedJob({ name: LOAD_NAME, namespace: NS });
      return Boolean(j.status?.succeeded || j.status?.failed);
    },
  );
  const job = await batch
    .readNamespacedJob({ name: LOAD_NAME, namespace: NS })
    .catch(() => undefined);
  if (!job?.status?.succeeded)
    failures.push(`the k6 Job did not succeed (${done === null ? 'still running' : 'failed'})`);
  // What k6 achieved (its end summary): the load the figures above answer to.
  const out = await core
    .readNamespacedPodLog({ name: loadPod, namespace: NS, tailLines: 60 })
    .catch(() => '');
  const reqs = /http_reqs[.\s:]+(\d+)\s+([\d.]+)\/s/.exec(out);
  const failed = /http_req_failed[.\s:]+([\d.]+)%/.exec(out);
  report.loadRps = reqs ? Number(reqs[2]) : null;
  report.loadRequests = reqs ? Number(reqs[1]) : null;
  log(
    'load',
    `k6 done: ${reqs ? `${reqs[1]} requests, ${reqs[2]}/s` : 'no summary'}${failed ? `, ${failed[1]}% failed` : ''}`,
  );
  report.replicasUnderLoad = Math.max(
    before,
    ...series.filter((s) => s.t >= loadStart).map((s) => s.replicas),
  );
  return done;
}

async function phaseOutage(): Promise<number | null> {
  const at = (await deployment()).replicas;
  const sts = await apps.readNamespacedStatefulSet({ name: PROMETHEUS, namespace: NS });
  const original = sts.spec?.replicas ?? 1;
  log(
    'outage',
    `Prometheus (${PROMETHEUS}) scaled to 0 for ${OUTAGE_SECONDS}s with ${at} replicas up (min ${spec.minReplicas}, window ${spec.behavior.scaleDown.stabilizationWindowSeconds}s)`,
  );
  prometheusReplicas = original;
  const from = Date.now();
  await setPrometheus(0);
  let unavailableSeen = false;
  while (Date.now() - from < OUTAGE_SECONDS * 1000) {
    const s = (await autoscaler()).status;
    if (s.conditions?.some((c) => c.type === 'MetricsAvailable' && c.status === 'False'))
      unavailableSeen = true;
    await stateLine('outage', `${Math.round((Date.now() - from) / 1000)}s`);
    await sleep(5000);
  }
  const during = series.filter((s) => s.t >= from);
  const lowest = Math.min(...during.map((s) => s.replicas));
  report.metricsUnavailableSeen = unavailableSeen;
  report.replicasDuringOutage = `${at}→min ${lowest}`;
  if (at <= spec.minReplicas) {
    // Nothing could have been scaled down: the phase proves nothing, and says so.
    log('outage', `replicas were already at the minimum (${at}): the hold cannot be shown`);
    failures.push('metrics outage: replicas were at the minimum, nothing to hold');
  } else {
    report.heldDuringMetricsOutage = lowest >= at;
    if (!report.heldDuringMetricsOutage)
      failures.push(`replicas dropped from ${at} to ${lowest} during the metrics outage`);
  }
  log(
    'outage',
    `Prometheus back to ${original}; MetricsAvailable=False seen: ${unavailableSeen}; replicas ${at} → lowest ${lowest}`,
  );
  await setPrometheus(original);
  prometheusReplicas = undefined;
  return Date.now();
}

/**
 * From Prometheus restored to the minimum replicas, in one loop: the first decision that read RPS
 * again (its lastDecisionTime) starts the clock, the scale-down that reached the minimum (its
 * lastScaleDownTime) stops it. Both are the operator's own timestamps, so a poll gap or an RPS
 * reading that comes and goes after the restart cannot shift them.
 */
async function phaseScaleDown(restoredAt: number | null): Promise<void> {
  const from = restoredAt ?? Date.now();
  log(
    'scale-down',
    `from ${replicasNow()} replicas; waiting for RPS to be read again, then ${spec.minReplicas}`,
  );
  let backAt: number | undefined;
  let doneAt: number | undefined;
  const done = await waitFor('scale-down', `${spec.minReplicas} replicas`, 240_000, async () => {
    const [s, d] = await Promise.all([autoscaler().then((x) => x.status), deployment()]);
    if (backAt === undefined && s.observedRps !== null && s.observedRps !== undefined) {
      backAt = Date.parse(s.lastDecisionTime ?? '') || Date.now();
      log(
        'scale-down',
        `RPS read again (${s.observedRps} rps) ${secs(backAt - from)}s after the restore`,
      );
    }
    if (d.replicas > spec.minReplicas) return false;
    doneAt = Date.parse(s.lastScaleDownTime ?? '') || Date.now();
    return true;
  });
  if (done === null || doneAt === undefined) {
    failures.push('no scale-down to the minimum after the load');
    return;
  }
  // Down before a poll saw RPS readable: the clock starts at the restore instead (an upper bound).
  const rpsFirst = backAt !== undefined && backAt <= doneAt;
  report.scaleDownSeconds = secs(doneAt - (rpsFirst && backAt !== undefined ? backAt : from));
  report.scaleDownFrom = rpsFirst ? 'rps read again' : 'prometheus restored';
  log(
    'scale-down',
    `at ${spec.minReplicas} replicas ${report.scaleDownSeconds}s after ${report.scaleDownFrom} (window ${spec.behavior.scaleDown.stabilizationWindowSeconds}s)`,
  );
}

/** POST to the reservation API from inside a reservation pod (its image has node, no curl). */
async function post(path: string, body: unknown): Promise<{ status: number; body: string }> {
  const token = await core
    .readNamespacedSecret({ name: ADMIN_SECRET.name, namespace: NS })
    .then((s) => Buffer.from(s.data?.[ADMIN_SECRET.key] ?? '', 'base64').toString());
  const script =
    `fetch('http://127.0.0.1:8080${path}',{method:'POST',headers:{'content-type':'application/json',` +
    `authorization:${JSON.stringify(`Bearer ${token}`)}},body:${JSON.stringify(JSON.stringify(body))}})` +
    `.then(async r=>console.log(r.status+' '+(await r.text())))`;
  const { stdout } = await sh(KUBECTL, [
    '-n',
    NS,
    'exec',
    `deploy/${TARGET}`,
    '--',
    'node',
    '-e',
    script,
  ]);
  const [status, ...rest] = stdout.trim().split(' ');
  return { status: Number(status), body: rest.join(' ') };
}

async function phasePreScale(): Promise<number | null> {
  const before = (await deployment()).replicas;
  const startsAt = Date.now() + SALE_IN_SECONDS * 1000;
  const res = await post('/v1/events', {
    name: `operator-e2e sale ${RUN}`,
    capacity: 100,
    saleStartsAt: new Date(startsAt).toISOString(),
  });
  log(
    'pre-scale',
    `POST /v1/events → ${res.status}: sale opens at ${new Date(startsAt).toISOString()} (in ${SALE_IN_SECONDS}s, lead ${spec.preScale.leadSeconds}s), ${before} replicas now`,
  );
  if (res.status !== 201) throw new Error(`creating the sale: ${res.status} ${res.body}`);
  // Fresh reads (not the 1 s samples, which may still show the last scale-down's count); the
  // rise is the operator's own lastScaleTime of the scale-up that followed the sale's creation.
  const createdAt = startsAt - SALE_IN_SECONDS * 1000;
  let scaled: AutoscalerStatus = {};
  const rose = await waitFor(
    'pre-scale',
    'replicas above the minimum before the sale opens',
    SALE_IN_SECONDS * 1000 + 10_000,
    async () => {
      const [d, a] = await Promise.all([deployment(), autoscaler()]);
      scaled = a.status;
      return d.replicas > before && Date.parse(a.status.lastScaleTime ?? '') >= createdAt;
    },
  );
  if (rose === null) {
    failures.push('no pre-scale before the sale opened');
    return null;
  }
  const first = Date.parse(scaled.lastScaleTime ?? '') || rose;
  report.preScaleLeadSeconds = secs(startsAt - first);
  report.preScaleReason = scaled.lastReason ?? null;
  log(
    'pre-scale',
    `${scaled.desiredReplicas} replicas ${report.preScaleLeadSeconds}s before the sale opens (${scaled.lastReason}: ${scaled.preScale ?? ''})`,
  );
  if (scaled.lastReason !== 'PreScale' && !scaled.preScale)
    failures.push(`replicas rose without a pre-scale floor (${scaled.lastReason})`);
  if ((report.preScaleLeadSeconds as number) <= 0)
    failures.push('replicas rose only after the sale opened');
  const ready = await waitFor('pre-scale', 'the pre-scaled pods Ready', 90_000, async () => {
    const d = await deployment();
    return d.replicas > before && d.ready >= d.replicas;
  });
  if (ready !== null) report.preScaleReadyLeadSeconds = secs(startsAt - ready);
  return startsAt;
}

async function phaseRemediation(): Promise<void> {
  const threshold = spec.remediation.restartThreshold;
  const pods = await targetPods();
  const victim = pods.find(
    (p) =>
      p.status?.phase === 'Running' &&
      !p.metadata?.deletionTimestamp &&
      p.status?.containerStatuses?.every((c) => c.ready),
  );
  const name = victim?.metadata?.name;
  if (!name) throw new Error('no Ready reservation pod to crash');
  log(
    'remediation',
    `${pods.length} pods; making ${name} crash-loop (SIGTERM to its node process whenever it runs; threshold ${threshold} restarts)`,
  );
  const startedAt = Date.now();
  let eligibleAt: number | undefined;
  let kills = 0;
  let lastKill = 0;
  const gone = await waitFor(
    'remediation',
    `${name} deleted by the operator`,
    240_000,
    async () => {
      const p = await core.readNamespacedPod({ name, namespace: NS }).catch(() => undefined);
      const c = p?.status?.containerStatuses?.[0];
      const eligible =
        c?.state?.waiting?.reason === 'CrashLoopBackOff' && (c.restartCount ?? 0) >= threshold;
      if (!p || p.metadata?.uid !== victim?.metadata?.uid || p.metadata?.deletionTimestamp) {
        // Deleted between two polls of its eligible state: it became eligible when it crashed the
        // last time (the kubelet's own finishedAt, whole seconds).
        const last = c?.lastState?.terminated?.finishedAt;
        if (eligibleAt === undefined && eligible && last) eligibleAt = new Date(last).getTime();
        return true;
      }
      if (eligible && eligibleAt === undefined) {
        eligibleAt = Date.now();
        log(
          'remediation',
          `${name} in CrashLoopBackOff after ${c?.restartCount} restarts: eligible`,
        );
      }
      // Kill the container each time it runs again (not twice within 3 s: it may be stopping). Not
      // awaited: the 0.5 s polls go on while kubectl exec runs.
      if (c?.state?.running && Date.now() - lastKill > 3000) {
        lastKill = Date.now();
        void sh(KUBECTL, ['-n', NS, 'exec', name, '--', 'node', '-e', 'process.kill(1, "SIGTERM")'])
          .then(() => kills++)
          .catch(() => undefined);
      }
      return false;
    },
  );
  report.remediationKills = kills;
  if (gone === null) {
    failures.push(`the crash-looping pod ${name} was not replaced`);
    return;
  }
  const events = await core.listNamespacedEvent({ namespace: NS }).catch(() => undefined);
  const recorded =
    events?.items.some((e) => e.reason === 'PodRestarted' && (e.message ?? '').includes(name)) ??
    false;
  report.podRestartedEvent = recorded;
  report.remediationSeconds = eligibleAt === undefined ? null : secs(gone - eligibleAt);
  report.remediationFromFirstCrashSeconds = secs(gone - startedAt);
  if (eligibleAt === undefined || !recorded)
    failures.push(`${name} went away without being seen eligible or without a PodRestarted Event`);
  log(
    'remediation',
    `${name} deleted ${report.remediationSeconds}s after it became eligible (${secs(gone - startedAt)}s after the first crash, ${kills} kills); PodRestarted Event: ${recorded}`,
  );
  await waitFor('remediation', 'the replacement Ready', 90_000, async () => {
    const d = await deployment();
    return d.ready >= d.replicas;
  });
}

/** ctr against the host cluster's containerd (run.sh sets the socket; empty elsewhere). */
const CONTAINERD_SOCK = env.E2E_CONTAINERD_SOCK ?? '';
const ctr = (...args: string[]) =>
  sh('ctr', ['--address', CONTAINERD_SOCK, '--namespace', 'k8s.io', ...args]);
/** The leader container this run froze, until it is thawed (also on Ctrl-C). */
let frozen: string | undefined;
async function thaw(): Promise<void> {
  if (!frozen) return;
  const id = frozen;
  frozen = undefined;
  await ctr('task', 'resume', id).catch((e: unknown) => log('failover', `resume: ${errMsg(e)}`));
}

/**
 * A leader that stops without releasing the Lease: its container frozen (containerd task pause, a
 * hung or cut-off leader). Deleting the pod instead would send SIGTERM, on which the operator
 * releases the Lease and the standby takes over within about a second: the graceful path, not a
 * failover (0.6 s in a run of the first version of this phase). Without access to
 * containerd (not the host cluster) the delete is all there is, and the report says so.
 */
async function phaseFailover(): Promise<void> {
  const lease = await leases.readNamespacedLease({ name: LEASE, namespace: NS });
  const leader = lease.spec?.holderIdentity;
  const duration = lease.spec?.leaseDurationSeconds ?? null;
  report.leaseDurationSeconds = duration;
  if (!leader) throw new Error('no leader in the Lease');
  const pod = await core.readNamespacedPod({ name: leader, namespace: NS });
  const id = pod.status?.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, '');
  const start = Date.now();
  let lastRenewal = Number.NaN;
  if (CONTAINERD_SOCK && id) {
    log(
      'failover',
      `freezing the leader ${leader} (containerd task pause): no renewals, no release; lease ${duration}s`,
    );
    frozen = id;
    await ctr('task', 'pause', id);
    report.failoverMode = 'leader frozen';
    // Its last sign of life: the renewal the Lease holds now (no other can follow).
    const renewed = (await leases.readNamespacedLease({ name: LEASE, namespace: NS })).spec
      ?.renewTime;
    lastRenewal = renewed ? new Date(renewed).getTime() : Number.NaN;
  } else {
    log(
      'failover',
      `deleting the leader pod ${leader} without grace (it may still release the Lease on SIGTERM)`,
    );
    await core.deleteNamespacedPod({ name: leader, namespace: NS, gracePeriodSeconds: 0 });
    report.failoverMode = 'leader pod deleted';
  }
  let holder = '';
  let acquired = Number.NaN;
  const took = await waitFor('failover', 'another leader', 90_000, async () => {
    const l = await leases.readNamespacedLease({ name: LEASE, namespace: NS });
    holder = l.spec?.holderIdentity ?? '';
    acquired = l.spec?.acquireTime ? new Date(l.spec.acquireTime).getTime() : Number.NaN;
    return holder !== '' && holder !== leader;
  });
  if (took === null) {
    failures.push('no other leader took the Lease');
  } else {
    // The new holder stamps acquireTime as it takes the Lease, on this node's clock; this loop sees
    // it up to a poll (0.5 s) and an API round trip later, which is not part of the failover.
    const takenAt = acquired >= start && acquired <= took ? acquired : took;
    // The leader stopped at the freeze, or later: it may still renew while `ctr task pause` runs,
    // and its last renewal proves it was alive then.
    const stopped = Number.isFinite(lastRenewal) ? Math.max(start, lastRenewal) : start;
    report.failoverSeconds = secs(takenAt - stopped);
    report.failoverSeenSeconds = secs(took - stopped);
    if (Number.isFinite(lastRenewal)) {
      report.failoverFromLastRenewalSeconds = secs(takenAt - lastRenewal);
      // How long after the Lease ran out the standby took it (timer lateness; 0 is the ideal).
      if (duration !== null)
        report.failoverPastExpiryMs = Math.round(takenAt - (lastRenewal + duration * 1000));
    }
    report.failoverWithinLease =
      duration !== null && (report.failoverSeconds as number) <= duration;
    // The new leader acts: a decision written after the takeover.
    const acted = await waitFor('failover', 'a decision by the new leader', 30_000, async () => {
      const st = (await autoscaler()).status;
      return Date.parse(st.lastDecisionTime ?? '') >= takenAt;
    });
    report.failoverActingSeconds = acted === null ? null : secs(acted - stopped);
    log(
      'failover',
      `${holder} took the Lease ${report.failoverSeconds}s after the leader stopped (${report.failoverFromLastRenewalSeconds ?? '?'}s after its last renewal, ${report.failoverPastExpiryMs ?? '?'} ms after the lease ran out; lease ${duration}s; seen after ${report.failoverSeenSeconds}s), decided ${report.failoverActingSeconds}s after`,
    );
  }
  if (frozen) {
    // The frozen pod goes (its ReplicaSet makes a new standby); thawed so that it can be killed.
    await core
      .deleteNamespacedPod({ name: leader, namespace: NS, gracePeriodSeconds: 0 })
      .catch(() => undefined);
    await thaw();
  }
  await waitFor('failover', `both ${OPERATOR} pods Ready again`, 90_000, async () => {
    const d = await apps.readNamespacedDeployment({ name: OPERATOR, namespace: NS });
    return (
      (d.status?.readyReplicas ?? 0) >= (d.spec?.replicas ?? 1) &&
      (d.status?.replicas ?? 0) <= (d.spec?.replicas ?? 1)
    );
  });
}

/** Direction changes of the replica count in [from, to], beyond the one up→down a load causes. */
function flaps(from: number, to: number): number {
  let dir = 0;
  let changes = 0;
  const seg = series.filter((s) => s.t >= from && s.t <= to);
  for (let i = 1; i < seg.length; i++) {
    const d = Math.sign((seg[i]?.replicas ?? 0) - (seg[i - 1]?.replicas ?? 0));
    if (d !== 0 && dir !== 0 && d !== dir) changes++;
    if (d !== 0) dir = d;
  }
  return Math.max(0, changes - 1);
}

async function run<T>(phase: string, fn: () => Promise<T>): Promise<T | null> {
  try {
    return await fn();
  } catch (err) {
    failures.push(`${phase}: ${errMsg(err)}`);
    log(phase, `FAILED: ${errMsg(err)}`);
    return null;
  }
}

async function main(): Promise<void> {
  const sampler = sample();
  await sleep(1500);
  let ok = (await run('preflight', preflight)) !== null;
  if (ok) {
    const loadFrom = Date.now();
    const loaded = await run('load', phaseLoad);
    await cleanup();
    ok = loaded !== null;
    const back = ok ? await run('outage', phaseOutage) : null;
    await cleanup();
    if (ok) await run('scale-down', () => phaseScaleDown(back));
    report.flaps = flaps(loadFrom, Date.now());
    report.maxReplicas = Math.max(...series.filter((s) => s.t >= loadFrom).map((s) => s.replicas));
    // The pre-scale floor holds the replicas up while a pod crash-loops (enough pods for the
    // unhealthy share to stay under the outage threshold).
    await run('pre-scale', phasePreScale);
    await run('remediation', phaseRemediation);
    await run('failover', phaseFailover);
  }
  sampling = false;
  await sampler;
  await cleanup();
  report.totalSeconds = secs(Date.now() - t0);
  writeFileSync('reports/operator-e2e.json', `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  const missing = [
    'scaleUpDecisionSeconds',
    'preScaleLeadSeconds',
    'remediationSeconds',
    'failoverSeconds',
  ].filter((k) => report[k] === null);
  if (report.heldDuringMetricsOutage !== true) missing.push('heldDuringMetricsOutage');
  for (const m of missing) failures.push(`no ${m} in the report`);
  if (failures.length) {
    for (const f of failures) log('result', `FAILED: ${f}`);
    process.exit(1);
  }
  log('result', 'scaled up and down, held during the outage, pre-scaled, remediated, failed over');
}

main().catch(async (err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  await cleanup();
  process.exit(1);
});
