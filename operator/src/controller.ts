// The reconcile loop: reads state (the ReservationAutoscaler, its Deployment's scale, the signals,
// the sale schedule, the target pods), calls the pure decisions, and writes the results (scale,
// pod deletions, Events, status). Only the leader reconciles; every instance keeps its cache warm.
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  ApiException,
  type KubeConfig,
  type KubernetesListObject,
  type V1Pod,
} from '@kubernetes/client-node';
import type { Config } from './config.js';
import {
  desiredReplicas,
  Reason,
  type Decision,
  type Recommendation,
  type Signal,
} from './decision.js';
import { RestartingInformer } from './kube/informer.js';
import { WorkQueue } from './kube/queue.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { acts, defaultInstance, type Ownership } from './ownership.js';
import { nextPreScaleAt, preScaleFloor, type Sale } from './prescale.js';
import { planRemediation, type PodView } from './remediation.js';
import { queryScalar } from './signals/prometheus.js';
import { BacklogReader } from './signals/jetstream.js';
import { fetchSales } from './signals/schedule.js';
import {
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  decisionSpec,
  fixedWindows,
  parseSpec,
  preScaleSpec,
  remediationSpec,
  type AutoscalerSpec,
  type AutoscalerStatus,
  type Condition,
  type ReservationAutoscaler,
} from './spec.js';

/** Event reasons: constant, so alerts and tests can match them. */
export const EventReason = {
  ScaledUp: 'ScaledUp',
  ScaledDown: 'ScaledDown',
  PreScaled: 'PreScaled',
  FallbackApplied: 'FallbackApplied',
  MetricsUnavailable: 'MetricsUnavailable',
  MetricsRecovered: 'MetricsRecovered',
  PodRestarted: 'PodRestarted',
  RemediationSkipped: 'RemediationSkipped',
  InvalidSpec: 'InvalidSpec',
  TargetNotFound: 'TargetNotFound',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface KeyState {
  history: Recommendation[];
  lastScaleDownAt?: number;
  failures: number;
  sales: Sale[];
  salesReadAt: number;
  salesUrl?: string;
  lastReason?: string;
  metricsAvailable?: boolean;
  probe?: NodeJS.Timeout;
  /** What the backlog probe compares against: replicas × backlog target × (1 + tolerance). */
  backlogWake?: number;
  jetstream?: { url: string; stream: string; consumer: string };
}

export interface ControllerOptions {
  kc: KubeConfig;
  config: Config;
  log: Logger;
  metrics: Metrics;
  /**
   * Checked right before every write that acts (scale, pod delete): false once this instance's
   * leadership has lapsed, e.g. it was frozen past its renew deadline. Default: always.
   */
  mayAct?: () => boolean;
}

const keyOf = (o: ReservationAutoscaler) => `${o.metadata.namespace}/${o.metadata.name}`;
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The ReservationAutoscaler controller. */
export class Controller {
  private readonly apps: AppsV1Api;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly informer: RestartingInformer<ReservationAutoscaler>;
  private queue?: WorkQueue;
  private readonly state = new Map<string, KeyState>();
  private readonly readers = new Map<string, BacklogReader>();
  private readonly seen = new Map<string, number>();
  private readonly ownership: Ownership;

  constructor(private readonly o: ControllerOptions) {
    this.ownership = {
      instance:
        o.config.OPERATOR_INSTANCE ||
        defaultInstance(o.config.LEASE_NAMESPACE, o.config.LEASE_NAME),
      home: o.config.LEASE_NAMESPACE,
      watchNamespace: o.config.WATCH_NAMESPACE,
    };
    this.apps = o.kc.makeApiClient(AppsV1Api);
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.custom = o.kc.makeApiClient(CustomObjectsApi);
    const ns = o.config.WATCH_NAMESPACE;
    const path = ns
      ? `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${PLURAL}`
      : `/apis/${GROUP}/${VERSION}/${PLURAL}`;
    const list = () =>
      (ns
        ? this.custom.listNamespacedCustomObject({
            group: GROUP,
            version: VERSION,
            namespace: ns,
            plural: PLURAL,
          })
        : this.custom.listClusterCustomObject({
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
          })) as Promise<KubernetesListObject<ReservationAutoscaler>>;
    this.informer = new RestartingInformer<ReservationAutoscaler>({
      kc: o.kc,
      path,
      list,
      log: o.log,
      onRestart: () => o.metrics.informerRestarts.inc({ resource: PLURAL }),
      handlers: {
        upsert: (obj) => this.changed(obj),
        remove: (obj) => this.forget(keyOf(obj)),
      },
    });
  }

  /** Fills the cache; reconciling starts with startLeading(). */
  async start(): Promise<void> {
    await this.informer.start();
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  /** Called when this instance becomes leader: reconcile every known object. */
  startLeading(): void {
    this.queue ??= new WorkQueue((key) => this.reconcile(key), {
      baseBackoffMs: 500,
      maxBackoffMs: 30_000,
      onError: (key, err, ms) => {
        this.o.metrics.reconciles.inc({ result: 'error' });
        this.o.log.child({ key }).error({ err, retryInMs: ms }, 'reconcile failed');
      },
    });
    for (const obj of this.informer.list()) if (this.ours(obj)) this.queue.add(keyOf(obj));
  }

  /** Called when leadership is lost: stop acting at once; decisions restart from a clean slate. */
  async stopLeading(): Promise<void> {
    const q = this.queue;
    this.queue = undefined;
    for (const s of this.state.values()) if (s.probe) clearInterval(s.probe);
    this.state.clear();
    await q?.stop();
  }

  async stop(): Promise<void> {
    await this.stopLeading();
    await this.informer.stop();
    await Promise.all([...this.readers.values()].map((r) => r.close()));
    this.readers.clear();
  }

  /**
   * Our own status writes come back as watch updates; only a new object or a new generation (a spec
   * change) runs a reconcile at once, the rest waits for the loop.
   */
  private changed(obj: ReservationAutoscaler): void {
    const key = keyOf(obj);
    if (!this.ours(obj)) {
      // Handed to another operator (label changed) or never ours: stop acting on it.
      if (this.seen.has(key) || this.state.has(key)) this.forget(key);
      return;
    }
    const gen = obj.metadata.generation ?? 0;
    if (this.seen.get(key) === gen) return;
    this.seen.set(key, gen);
    this.queue?.add(key);
  }

  /** Whether this instance acts on `obj` (see ownership.ts): never on another operator's objects. */
  private ours(obj: ReservationAutoscaler): boolean {
    return acts(this.ownership, obj.metadata.namespace ?? '', obj.metadata.labels);
  }

  private assertMayAct(): void {
    if (this.o.mayAct && !this.o.mayAct())
      throw new Error('leadership lapsed (no Lease renewal within the renew deadline): not acting');
  }

  private forget(key: string): void {
    this.seen.delete(key);
    this.queue?.forget(key);
    const s = this.state.get(key);
    if (s?.probe) clearInterval(s.probe);
    this.state.delete(key);
  }

  private reader(url: string): BacklogReader {
    let r = this.readers.get(url);
    if (!r) {
      r = new BacklogReader(url.split(','), this.o.config.NATS_TIMEOUT_MS);
      this.readers.set(url, r);
    }
    return r;
  }

  /** One reconcile of `namespace/name`; resolves with when to run again. */
  async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const end = this.o.metrics.reconcileDuration.startTimer();
    try {
      const r = await this.reconcileOnce(key);
      this.o.metrics.reconciles.inc({ result: 'ok' });
      return r;
    } finally {
      end();
    }
  }

  private async reconcileOnce(key: string): Promise<{ requeueAfterMs?: number }> {
    const [namespace, name] = key.split('/') as [string, string];
    const obj = this.informer.get(name, namespace);
    if (!obj || !this.ours(obj)) {
      this.forget(key);
      return {};
    }
    const log = this.o.log.child({ key });
    const generation = obj.metadata.generation ?? 0;
    const cfg = this.o.config;
    let spec: AutoscalerSpec;
    try {
      spec = parseSpec(obj.spec);
    } catch (err) {
      await this.event(obj, 'Warning', EventReason.InvalidSpec, errMsg(err));
      await this.writeStatus(obj, {
        observedGeneration: generation,
        lastReason: EventReason.InvalidSpec,
        lastMessage: errMsg(err),
        conditions: this.conditions(obj, generation, {
          Ready: ['False', EventReason.InvalidSpec, errMsg(err)],
        }),
      });
      return {};
    }
    const st = this.stateOf(key);

    // The target's scale subresource: replicas asked for (starting pods included) and its selector.
    let scale;
    try {
      scale = await this.apps.readNamespacedDeploymentScale({
        name: spec.scaleTargetRef.name,
        namespace,
      });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
      const msg = `Deployment ${namespace}/${spec.scaleTargetRef.name} not found`;
      if (st.lastReason !== EventReason.TargetNotFound)
        await this.event(obj, 'Warning', EventReason.TargetNotFound, msg);
      st.lastReason = EventReason.TargetNotFound;
      await this.writeStatus(obj, {
        observedGeneration: generation,
        lastReason: EventReason.TargetNotFound,
        lastMessage: msg,
        conditions: this.conditions(obj, generation, {
          Ready: ['False', EventReason.TargetNotFound, msg],
        }),
      });
      return { requeueAfterMs: cfg.SYNC_PERIOD_MS * 5 };
    }
    const current = scale.spec?.replicas ?? 0;
    const now = Date.now();
    if (st.history.length === 0) {
      // A new leader (or a restart) starts its scale-down window now instead of trusting nothing:
      // without this, the first decision after a failover could scale down at once.
      st.history.push({ at: now, replicas: current });
    }

    // Signals, read side by side; each answers a number or why not.
    st.jetstream = spec.jetstream;
    const [rps, backlog] = await Promise.all([
      queryScalar({
        address: spec.prometheus.address,
        query: spec.prometheus.query,
        timeoutMs: cfg.PROMETHEUS_TIMEOUT_MS,
        maxAgeMs: cfg.PROMETHEUS_MAX_AGE_MS,
      }),
      this.reader(spec.jetstream.url).read(spec.jetstream),
      this.refreshSchedule(st, spec, log),
    ]);
    this.recordSignal(obj, 'rps', rps);
    this.recordSignal(obj, 'backlog', backlog);
    const windows = fixedWindows(spec);
    const floor = preScaleFloor(
      now,
      st.sales,
      windows,
      preScaleSpec(spec),
      spec.targetRpsPerReplica,
    );

    const d = desiredReplicas({
      now,
      spec: decisionSpec(spec),
      rps,
      backlog,
      currentReplicas: current,
      history: st.history,
      lastScaleDownAt: st.lastScaleDownAt,
      consecutiveFailures: st.failures,
      preScale: floor,
    });
    log.debug({ current, decision: d.replicas, reason: d.reason, rps, backlog }, 'decided');
    st.failures = d.consecutiveFailures;
    st.history.push({ at: now, replicas: d.recommendation });
    const keep =
      Math.max(
        spec.behavior.scaleDown.stabilizationWindowSeconds,
        spec.behavior.scaleUp.stabilizationWindowSeconds,
      ) * 1000;
    st.history = st.history.filter((h) => h.at >= now - keep);
    this.o.metrics.decisions.inc({ namespace, name, reason: d.reason });
    this.o.metrics.desiredReplicas.set({ namespace, name }, d.recommendedReplicas);

    let scaledAt: string | undefined;
    if (d.apply) {
      this.assertMayAct();
      await this.apps.patchNamespacedDeploymentScale(
        { name: spec.scaleTargetRef.name, namespace, body: { spec: { replicas: d.replicas } } },
        MERGE,
      );
      scaledAt = new Date(now).toISOString();
      if (d.replicas < current) st.lastScaleDownAt = now;
      log.info({ from: current, to: d.replicas, reason: d.reason, rps, backlog }, d.message);
      await this.event(obj, 'Normal', this.eventReasonOf(d, current), d.message);
    }
    if (d.metricsAvailable !== st.metricsAvailable) {
      if (!d.metricsAvailable)
        await this.event(obj, 'Warning', EventReason.MetricsUnavailable, d.message);
      else if (st.metricsAvailable === false)
        await this.event(obj, 'Normal', EventReason.MetricsRecovered, d.message);
      st.metricsAvailable = d.metricsAvailable;
    }
    st.lastReason = d.reason;

    const remediation =
      spec.paused || spec.dryRun
        ? undefined
        : await this.remediate(obj, spec, scale.status?.selector, now, log);

    // Status: the inputs and the reason of this decision, and the three conditions.
    const rpsText = rps.available ? '' : `rps: ${rps.reason}`;
    const backlogText = backlog.available ? '' : `backlog: ${backlog.reason}`;
    const missing = [rpsText, backlogText].filter(Boolean).join('; ');
    const status: AutoscalerStatus = {
      observedGeneration: generation,
      currentReplicas: current,
      desiredReplicas: d.replicas,
      recommendedReplicas: d.recommendedReplicas,
      observedRps: rps.available ? Math.round(rps.value * 100) / 100 : null,
      observedBacklog: backlog.available ? backlog.value : null,
      lastReason: d.reason,
      lastMessage: remediation ? `${d.message}; ${remediation}` : d.message,
      lastDecisionTime: new Date(now).toISOString(),
      preScale: floor ? `${floor.replicas} replicas: ${floor.why}` : null,
      conditions: this.conditions(obj, generation, {
        Ready: ['True', 'Reconciled', `decided ${d.replicas} replicas (${d.reason})`],
        MetricsAvailable: d.metricsAvailable
          ? ['True', 'SignalsRead', 'rps and backlog read']
          : ['False', Reason.MetricsUnavailableHold, `${missing}; scale-down held`],
        ScalingLimited: d.limitedBy
          ? ['True', d.limitedBy, `held at ${d.recommendedReplicas} by ${d.limitedBy}`]
          : ['False', 'WithinBounds', 'the decision is within min, max and step limits'],
      }),
    };
    if (scaledAt) status.lastScaleTime = scaledAt;
    if (st.lastScaleDownAt !== undefined)
      status.lastScaleDownTime = new Date(st.lastScaleDownAt).toISOString();
    await this.writeStatus(obj, status);

    this.armProbe(key, st, spec, d.apply ? d.replicas : current);
    const nextFloor = nextPreScaleAt(now, st.sales, windows, preScaleSpec(spec));
    const after = Math.min(cfg.SYNC_PERIOD_MS, nextFloor ?? Infinity);
    return { requeueAfterMs: Math.max(50, after) };
  }

  private eventReasonOf(d: Decision, current: number): EventReason {
    if (d.reason === Reason.PreScale) return EventReason.PreScaled;
    if (d.reason === Reason.Fallback) return EventReason.FallbackApplied;
    return d.replicas > current ? EventReason.ScaledUp : EventReason.ScaledDown;
  }

  private stateOf(key: string): KeyState {
    let s = this.state.get(key);
    if (!s) {
      s = { history: [], failures: 0, sales: [], salesReadAt: 0 };
      this.state.set(key, s);
    }
    return s;
  }

  private recordSignal(obj: ReservationAutoscaler, signal: 'rps' | 'backlog', s: Signal): void {
    const labels = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '' };
    const gauge = signal === 'rps' ? this.o.metrics.observedRps : this.o.metrics.observedBacklog;
    if (s.available) gauge.set(labels, s.value);
    else {
      gauge.remove(labels);
      this.o.metrics.signalUnavailable.inc({ ...labels, signal });
    }
  }

  /** Reads the sale schedule when due; a failed read keeps the last good one. */
  private async refreshSchedule(st: KeyState, spec: AutoscalerSpec, log: Logger): Promise<void> {
    if (!spec.preScale.enabled) {
      st.sales = [];
      return;
    }
    const now = Date.now();
    if (
      st.salesUrl === spec.preScale.scheduleUrl &&
      now - st.salesReadAt < this.o.config.SCHEDULE_REFRESH_MS
    )
      return;
    try {
      st.sales = await fetchSales(spec.preScale.scheduleUrl, this.o.config.SCHEDULE_TIMEOUT_MS);
      st.salesUrl = spec.preScale.scheduleUrl;
      st.salesReadAt = now;
    } catch (err) {
      // Retry after a fifth of the refresh period, not on every loop.
      st.salesReadAt = now - (this.o.config.SCHEDULE_REFRESH_MS * 4) / 5;
      st.salesUrl = spec.preScale.scheduleUrl;
      log.warn(
        { err: errMsg(err), keptSales: st.sales.length },
        'sale schedule unavailable; keeping the last one',
      );
    }
  }

  /**
   * Between decisions, probe the backlog often: a jump above what the current replicas absorb wakes
   * the decision loop at once instead of at its next tick.
   */
  private armProbe(key: string, st: KeyState, spec: AutoscalerSpec, replicas: number): void {
    st.backlogWake = replicas * spec.targetBacklogPerReplica * (1 + spec.tolerancePercent / 100);
    if (st.probe) return;
    let busy = false;
    st.probe = setInterval(() => {
      if (busy || !st.jetstream) return;
      busy = true;
      const js = st.jetstream;
      // read() never rejects (it answers "unavailable"), so nothing is left floating here.
      void this.reader(js.url)
        .read(js)
        .then((s) => {
          if (s.available && st.backlogWake !== undefined && s.value > st.backlogWake)
            this.queue?.add(key);
        })
        .finally(() => {
          busy = false;
        });
    }, this.o.config.BACKLOG_PROBE_MS);
    st.probe.unref();
  }

  private async remediate(
    obj: ReservationAutoscaler,
    spec: AutoscalerSpec,
    selector: string | undefined,
    now: number,
    log: Logger,
  ): Promise<string | undefined> {
    if (!spec.remediation.enabled || !selector) return undefined;
    const namespace = obj.metadata.namespace ?? '';
    const pods = await this.core.listNamespacedPod({ namespace, labelSelector: selector });
    const views = pods.items.map(podView);
    const plan = planRemediation(views, remediationSpec(spec), now);
    const labels = { namespace, name: obj.metadata.name ?? '' };
    if (plan.outage) {
      this.o.metrics.outages.inc(labels);
      const msg = `${plan.unhealthy}/${views.filter((v) => !v.terminating).length} pods unhealthy: an outage, not restarting any`;
      const st = this.stateOf(keyOf(obj));
      if (st.lastReason !== EventReason.RemediationSkipped)
        await this.event(obj, 'Warning', EventReason.RemediationSkipped, msg);
      log.warn({ skipped: plan.skipped }, msg);
      return msg;
    }
    for (const r of plan.restart) {
      const pod = pods.items.find((p) => p.metadata?.name === r.name);
      this.assertMayAct();
      try {
        await this.core.deleteNamespacedPod({
          name: r.name,
          namespace,
          // Only the pod we judged: a replacement with the same name is left alone.
          body: { preconditions: { uid: pod?.metadata?.uid } },
        });
      } catch (err) {
        if (err instanceof ApiException && (err.code === 404 || err.code === 409)) continue;
        throw err;
      }
      this.o.metrics.podRestarts.inc({ ...labels, why: r.why });
      log.info({ pod: r.name, why: r.why }, `restarted pod ${r.name}: ${r.detail}`);
      await this.event(
        obj,
        'Normal',
        EventReason.PodRestarted,
        `deleted pod ${r.name} (${r.detail}); its ReplicaSet replaces it`,
      );
    }
    return plan.restart.length
      ? `restarted ${plan.restart.map((r) => r.name).join(', ')}`
      : undefined;
  }

  private conditions(
    obj: ReservationAutoscaler,
    generation: number,
    want: Partial<Record<Condition['type'], [Condition['status'], string, string]>>,
  ): Condition[] {
    const prev = obj.status?.conditions ?? [];
    const now = new Date().toISOString();
    const out: Condition[] = [];
    for (const type of ['Ready', 'MetricsAvailable', 'ScalingLimited'] as const) {
      const old = prev.find((c) => c.type === type);
      const w = want[type];
      if (!w) {
        if (old) out.push(old);
        continue;
      }
      const [status, reason, message] = w;
      out.push({
        type,
        status,
        reason,
        message,
        // The transition time moves only when the status does, as Kubernetes conditions expect.
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : now,
        observedGeneration: generation,
      });
    }
    return out;
  }

  private async writeStatus(obj: ReservationAutoscaler, status: AutoscalerStatus): Promise<void> {
    const updated = (await this.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        namespace: obj.metadata.namespace ?? '',
        plural: PLURAL,
        name: obj.metadata.name ?? '',
        body: { status },
      },
      MERGE,
    )) as ReservationAutoscaler;
    // Keep conditions' transition times straight before the watch delivers the update.
    obj.status = updated.status ?? status;
  }

  private async event(
    obj: ReservationAutoscaler,
    type: 'Normal' | 'Warning',
    reason: EventReason,
    message: string,
  ): Promise<void> {
    const namespace = obj.metadata.namespace ?? '';
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace,
        body: {
          metadata: { generateName: `${obj.metadata.name}.`, namespace },
          involvedObject: {
            apiVersion: `${GROUP}/${VERSION}`,
            kind: KIND,
            name: obj.metadata.name,
            namespace,
            uid: obj.metadata.uid,
            resourceVersion: obj.metadata.resourceVersion,
          },
          reason,
          message: message.slice(0, 1000),
          type,
          count: 1,
          firstTimestamp: now,
          lastTimestamp: now,
          source: { component: 'flashsale-operator' },
          reportingComponent: 'flashsale.dev/operator',
          reportingInstance: this.o.config.POD_NAME,
        },
      });
    } catch (err) {
      // An Event is a report, not the work: a failed one is logged and the reconcile goes on.
      this.o.log.warn({ key: keyOf(obj), err: errMsg(err), reason }, 'could not record an Event');
    }
  }
}

function podView(p: V1Pod): PodView {
  const statuses = p.status?.containerStatuses ?? [];
  const readyCond = p.status?.conditions?.find((c) => c.type === 'Ready');
  const since = readyCond?.lastTransitionTime ?? p.status?.startTime;
  return {
    name: p.metadata?.name ?? '',
    owned: (p.metadata?.ownerReferences ?? []).some((r) => r.controller === true),
    terminating: Boolean(p.metadata?.deletionTimestamp),
    phase: p.status?.phase ?? 'Unknown',
    ready: readyCond?.status === 'True',
    readySince: since ? new Date(since).getTime() : undefined,
    restarts: Math.max(0, ...statuses.map((s) => s.restartCount)),
    crashLooping: statuses.some((s) => s.state?.waiting?.reason === 'CrashLoopBackOff'),
  };
}
