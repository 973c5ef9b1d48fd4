// The autoscaling simulation: one world (demand, pods that take a while to start, a Prometheus that
// scrapes a request counter, a JetStream backlog) stepped second by second, and three scalers that
// see it through their own eyes — this operator's decision function, the Kubernetes HPA algorithm,
// and KEDA (a polled, cached metric fed to that HPA). Same pods, same start-up time for all.
import {
  desiredReplicas,
  DEFAULT_SPEC,
  type DecisionSpec,
  type Recommendation,
  type Signal,
} from '../decision.js';
import { preScaleFloor, type PreScaleSpec, type Sale } from '../prescale.js';

export interface Trace {
  name: string;
  description: string;
  seconds: number;
  /** Requests per second arriving at second t. */
  demand: (t: number) => number;
  /** When the rush begins (what "seconds from the rush" counts from). */
  rushAt: number;
  /** Prometheus answers nothing in [from, to). */
  outage?: { from: number; to: number };
  /** A sale the reservation service lists (its start and capacity), if the trace has one. */
  sale?: { startsAt: number; capacity: number };
}

export interface SimParams {
  podStartSeconds: number;
  /** Requests per second one ready pod serves (also every scaler's target per pod). */
  rpsPerPod: number;
  scrapeSeconds: number;
  /** Window of rate() in the HPA's and KEDA's query. */
  rateWindowSeconds: number;
  minReplicas: number;
  maxReplicas: number;
  initialReplicas: number;
}

export const DEFAULT_PARAMS: SimParams = {
  podStartSeconds: 20,
  rpsPerPod: 500,
  scrapeSeconds: 5,
  rateWindowSeconds: 60,
  minReplicas: 2,
  maxReplicas: 40,
  initialReplicas: 2,
};

/** What a scaler may look at, at second t. */
export interface View {
  t: number;
  /** Pods asked for (starting ones included). */
  replicas: number;
  /** Prometheus instant query: rate over `windowSeconds` of the scraped counter. */
  promRate: (windowSeconds: number) => Signal;
  /** irate: the last two scrapes. */
  promIrate: () => Signal;
  /** The JetStream consumer's backlog, read directly. */
  backlog: () => number;
}

export interface Scaler {
  name: string;
  /** Replicas to set at second t, or undefined for no change. */
  step: (v: View) => number | undefined;
}

/** Samples of the request counter, one per scrape. */
class Prometheus {
  private samples: Array<{ t: number; v: number }> = [];
  constructor(private readonly trace: Trace) {}
  scrape(t: number, counter: number): void {
    if (this.trace.outage && t >= this.trace.outage.from && t < this.trace.outage.to) {
      // A restarted Prometheus: no samples, and rate() has nothing to go on until two exist.
      this.samples = [];
      return;
    }
    this.samples.push({ t, v: counter });
  }
  private down(t: number): boolean {
    const o = this.trace.outage;
    return o !== undefined && t >= o.from && t < o.to;
  }
  rate(t: number, window: number): Signal {
    if (this.down(t)) return { available: false, reason: 'empty answer' };
    const inWin = this.samples.filter((s) => s.t > t - window && s.t <= t);
    const first = inWin[0];
    const last = inWin[inWin.length - 1];
    if (!first || !last || first === last) return { available: false, reason: 'empty answer' };
    // Prometheus extrapolates the increase to the whole window; the covered part is close enough.
    return { available: true, value: (last.v - first.v) / (last.t - first.t) };
  }
  irate(t: number): Signal {
    if (this.down(t)) return { available: false, reason: 'empty answer' };
    const n = this.samples.length;
    const a = this.samples[n - 2];
    const b = this.samples[n - 1];
    if (!a || !b || t - b.t > 30) return { available: false, reason: 'empty answer' };
    return { available: true, value: (b.v - a.v) / (b.t - a.t) };
  }
}

export interface RunResult {
  trace: string;
  scaler: string;
  /** Seconds from the rush until the first scale-up decision (negative: before the rush). */
  decisionSeconds: number | null;
  /** Seconds from the rush until ready capacity covers the rush's peak (negative: before). */
  rushToCapacitySeconds: number | null;
  replicaSeconds: number;
  secondsUnderCapacity: number;
  scaleDownsDuringOutage: number | null;
  scaleActions: number;
  maxReplicas: number;
  peakBacklog: number;
}

/** Steps one trace through one scaler. */
export function simulate(
  trace: Trace,
  make: () => Scaler,
  p: SimParams = DEFAULT_PARAMS,
): RunResult {
  const scaler = make();
  const prom = new Prometheus(trace);
  // Pods by the second they become ready.
  let pods: number[] = Array.from({ length: p.initialReplicas }, () => -1);
  let counter = 0;
  let backlog = 0;
  let replicaSeconds = 0;
  let under = 0;
  let actions = 0;
  let downsInOutage = 0;
  let maxReplicas = pods.length;
  let peakBacklog = 0;
  let firstUp: number | undefined;
  let capacityAt: number | undefined;
  const rushPeak = Math.max(
    ...Array.from({ length: Math.min(trace.seconds, 300) }, (_, i) =>
      trace.demand(trace.rushAt + i),
    ),
  );
  // A listed sale may be prepared for ahead of its start; any other rush is counted from its start.
  const countFrom = trace.sale ? 0 : trace.rushAt;
  for (let t = 0; t < trace.seconds; t++) {
    const demand = trace.demand(t);
    counter += demand;
    if (t % p.scrapeSeconds === 0) prom.scrape(t, counter);
    const ready = pods.filter((r) => r <= t).length;
    backlog = Math.max(0, backlog + demand - ready * p.rpsPerPod);
    peakBacklog = Math.max(peakBacklog, backlog);
    const view: View = {
      t,
      replicas: pods.length,
      promRate: (w) => prom.rate(t, w),
      promIrate: () => prom.irate(t),
      backlog: () => backlog,
    };
    const want = scaler.step(view);
    const w =
      want === undefined ? pods.length : Math.max(p.minReplicas, Math.min(p.maxReplicas, want));
    if (w !== pods.length) {
      if (w > pods.length) {
        if (firstUp === undefined && t >= countFrom) firstUp = t;
        pods = [...pods, ...Array.from({ length: w - pods.length }, () => t + p.podStartSeconds)];
      } else if (w < pods.length) {
        // The newest (least ready) pods go first, as a ReplicaSet prefers.
        pods = [...pods].sort((a, b) => a - b).slice(0, w);
        if (trace.outage && t >= trace.outage.from && t < trace.outage.to) downsInOutage++;
      }
      actions++;
    }
    const readyNow = pods.filter((r) => r <= t).length;
    replicaSeconds += pods.length;
    maxReplicas = Math.max(maxReplicas, pods.length);
    if (readyNow * p.rpsPerPod < demand) under++;
    if (capacityAt === undefined && readyNow * p.rpsPerPod >= rushPeak && t >= countFrom)
      capacityAt = t;
  }
  return {
    trace: trace.name,
    scaler: scaler.name,
    decisionSeconds: firstUp === undefined ? null : firstUp - trace.rushAt,
    rushToCapacitySeconds: capacityAt === undefined ? null : capacityAt - trace.rushAt,
    replicaSeconds,
    secondsUnderCapacity: under,
    scaleDownsDuringOutage: trace.outage ? downsInOutage : null,
    scaleActions: actions,
    maxReplicas,
    peakBacklog: Math.round(peakBacklog),
  };
}

/** The Kubernetes HPA algorithm with its default behaviour, on a metric `read` gives it. */
export class HpaModel {
  private recs: Array<{ t: number; r: number }> = [];
  private ups: Array<{ t: number; n: number }> = [];
  private downs: Array<{ t: number; n: number }> = [];

  constructor(
    private readonly target: number,
    private readonly o = {
      syncSeconds: 15,
      tolerance: 0.1,
      upWindow: 0,
      downWindow: 300,
      upPods: 4,
      upPercent: 100,
      downPercent: 100,
      periodSeconds: 15,
    },
  ) {}

  /** One HPA sync: the metric (total over the target) or undefined when the metrics API fails. */
  sync(t: number, current: number, metric: number | undefined): number | undefined {
    if (t % this.o.syncSeconds !== 0) return undefined;
    // A failed metric read: the HPA reports FailedGetExternalMetric and changes nothing.
    if (metric === undefined) return undefined;
    const ratio = current > 0 ? metric / (this.target * current) : Infinity;
    const rec = Math.abs(ratio - 1) <= this.o.tolerance ? current : Math.ceil(metric / this.target);
    this.recs.push({ t, r: rec });
    this.recs = this.recs.filter((x) => x.t > t - Math.max(this.o.downWindow, this.o.upWindow, 1));
    // Stabilization: the highest recommendation of the down window, the lowest of the up window.
    const upRecs = this.recs.filter((x) => x.t > t - this.o.upWindow).map((x) => x.r);
    const downRecs = this.recs.filter((x) => x.t > t - this.o.downWindow).map((x) => x.r);
    const upMin = upRecs.length ? Math.min(...upRecs) : rec;
    let desired = current;
    if (rec > current) desired = Math.max(current, Math.min(rec, upMin));
    if (rec < current) desired = Math.min(current, Math.max(...downRecs));
    // Rate limits, against the replica count at the start of the period.
    const since = (list: Array<{ t: number; n: number }>) =>
      list.filter((x) => x.t > t - this.o.periodSeconds).reduce((s, x) => s + x.n, 0);
    if (desired > current) {
      const start = current - since(this.ups);
      const limit = Math.max(
        start + this.o.upPods,
        Math.floor(start * (1 + this.o.upPercent / 100)),
      );
      desired = Math.min(desired, limit);
      if (desired > current) this.ups.push({ t, n: desired - current });
    } else if (desired < current) {
      const start = current + since(this.downs);
      const limit = Math.ceil(start * (1 - this.o.downPercent / 100));
      desired = Math.max(desired, limit);
      if (desired < current) this.downs.push({ t, n: current - desired });
    }
    return desired === current ? undefined : desired;
  }
}

/** HPA on a Prometheus-adapter metric: rate over the query window, no answer = no change. */
export function hpaScaler(p: SimParams = DEFAULT_PARAMS): Scaler {
  const hpa = new HpaModel(p.rpsPerPod);
  return {
    name: 'HPA',
    step: (v) => {
      const m = v.promRate(p.rateWindowSeconds);
      return hpa.sync(v.t, v.replicas, m.available ? m.value : undefined);
    },
  };
}

/** KEDA: its Prometheus scaler polled every 30 s (an empty answer counts as 0), then the HPA. */
export function kedaScaler(p: SimParams = DEFAULT_PARAMS, pollingSeconds = 30): Scaler {
  const hpa = new HpaModel(p.rpsPerPod);
  let cached = 0;
  return {
    name: 'KEDA',
    step: (v) => {
      if (v.t % pollingSeconds === 0) {
        const m = v.promRate(p.rateWindowSeconds);
        cached = m.available ? m.value : 0;
      }
      return hpa.sync(v.t, v.replicas, cached);
    },
  };
}

/** This operator: desiredReplicas() every loop, woken early by a backlog jump, plus pre-scaling. */
export function operatorScaler(
  trace: Trace,
  p: SimParams = DEFAULT_PARAMS,
  o = { loopSeconds: 2, leadSeconds: 60 },
): Scaler {
  const spec: DecisionSpec = {
    ...DEFAULT_SPEC,
    minReplicas: p.minReplicas,
    maxReplicas: p.maxReplicas,
    targetRpsPerReplica: p.rpsPerPod,
    targetBacklogPerReplica: DEFAULT_SPEC.targetBacklogPerReplica,
  };
  const pre: PreScaleSpec = {
    enabled: true,
    leadSeconds: o.leadSeconds,
    holdSeconds: 120,
    expectedRpsPerTicket: 10,
    maxExpectedRps: 20_000,
  };
  const sales: Sale[] = trace.sale
    ? [
        {
          id: 'sale',
          name: trace.name,
          capacity: trace.sale.capacity,
          saleStartsAt: trace.sale.startsAt * 1000,
        },
      ]
    : [];
  let history: Recommendation[] = [];
  let lastDown: number | undefined;
  let failures = 0;
  let nextLoop = 0;
  return {
    name: 'operator',
    step: (v) => {
      const backlog = v.backlog();
      const woken = backlog > v.replicas * spec.targetBacklogPerReplica * (1 + spec.tolerance);
      if (v.t < nextLoop && !woken) return undefined;
      nextLoop = v.t + o.loopSeconds;
      const now = v.t * 1000;
      if (history.length === 0) history.push({ at: now, replicas: v.replicas });
      const d = desiredReplicas({
        now,
        spec,
        rps: v.promIrate(),
        backlog: { available: true, value: backlog },
        currentReplicas: v.replicas,
        history,
        lastScaleDownAt: lastDown,
        consecutiveFailures: failures,
        preScale: preScaleFloor(now, sales, [], pre, spec.targetRpsPerReplica),
      });
      failures = d.consecutiveFailures;
      history = [...history, { at: now, replicas: d.recommendation }].filter(
        (h) => h.at >= now - spec.scaleDown.stabilizationWindowSeconds * 1000,
      );
      if (d.apply && d.replicas < v.replicas) lastDown = now;
      return d.apply ? d.replicas : undefined;
    },
  };
}
