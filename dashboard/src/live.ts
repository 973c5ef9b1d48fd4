// The live state: one collector polls every upstream every STREAM_INTERVAL_MS (never two rounds at
// once), keeps the replicas history and the recent upstream errors, and hands each new state to
// the SSE subscribers. Each part fails alone: Prometheus down leaves the pods and sales showing.
import type {
  AutoscalerView,
  FeedItem,
  Health,
  LiveState,
  ReplicaPoint,
  SaleInventory,
  Section,
  UpstreamName,
} from './api-types.js';
import type { LoadTests } from './loadtest.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { asUpstreamError } from './upstreams/errors.js';
import type { Kube } from './upstreams/kubernetes.js';
import type { Prometheus } from './upstreams/prometheus.js';
import type { ReservationClient, SaleEvent } from './upstreams/reservation.js';

export interface LiveDeps {
  kube: Kube;
  prom: Prometheus;
  reservation: ReservationClient;
  loadTests: LoadTests;
  log: Logger;
  metrics: Metrics;
  namespace: string;
  reservationDeployment: string;
  salesLimit: number;
  adminEnabled: boolean;
  intervalMs: number;
  /** Samples kept in the replicas history. */
  historySize?: number;
}

const ERRORS_KEPT = 20;

/** Gathers the live state from every upstream and pushes it to subscribers. */
export class LiveCollector {
  private latest: LiveState | undefined;
  private inFlight: Promise<LiveState> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly history: ReplicaPoint[] = [];
  private readonly errors: FeedItem[] = [];
  private readonly subscribers = new Set<(s: LiveState) => void>();

  constructor(private readonly d: LiveDeps) {}

  /** Starts polling. */
  start(): void {
    const tick = () => {
      void this.collect().catch((err: unknown) =>
        this.d.log.error({ err }, 'live state collection failed'),
      );
    };
    tick();
    this.timer = setInterval(tick, this.d.intervalMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight?.catch(() => undefined);
    this.subscribers.clear();
  }

  /** Calls `f` with every new state; returns the unsubscribe function. */
  subscribe(f: (s: LiveState) => void): () => void {
    this.subscribers.add(f);
    this.d.metrics.streamClients.set(this.subscribers.size);
    return () => {
      this.subscribers.delete(f);
      this.d.metrics.streamClients.set(this.subscribers.size);
    };
  }

  /** The newest state, collecting one if there is none yet. */
  async current(): Promise<LiveState> {
    return this.latest ?? (await this.collect());
  }

  /** One round over every upstream (joins the round in flight, if any). */
  collect(): Promise<LiveState> {
    this.inFlight ??= this.round().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async section<T>(source: UpstreamName, f: () => Promise<T>): Promise<Section<T>> {
    try {
      const data = await f();
      this.d.metrics.upstreamCalls.inc({ upstream: source, result: 'ok' });
      return { ok: true, data };
    } catch (err) {
      const e = asUpstreamError(source, err);
      this.d.metrics.upstreamCalls.inc({ upstream: source, result: e.code });
      this.noteError(e.source, e.code, e.message);
      return { ok: false, error: e.toSection() };
    }
  }

  private noteError(source: string, code: string, message: string): void {
    const now = new Date().toISOString();
    const last = this.errors.find((e) => e.object === source);
    if (last && last.detail === message) {
      last.count++;
      last.at = now;
      return;
    }
    this.d.log.warn({ upstream: source, code }, message);
    this.errors.unshift({
      at: now,
      kind: 'error',
      severity: 'error',
      title: `${source}: ${code}`,
      detail: message,
      object: source,
      count: 1,
    });
    this.errors.length = Math.min(this.errors.length, ERRORS_KEPT);
  }

  private async sales(): Promise<SaleInventory[]> {
    const events = await this.d.reservation.listEvents(this.d.salesLimit);
    return Promise.all(events.map((e) => this.inventory(e)));
  }

  private async inventory(e: SaleEvent): Promise<SaleInventory> {
    const base: SaleInventory = {
      id: e.id,
      name: e.name,
      state: e.state,
      capacity: e.capacity,
      sold: e.sold,
      remaining: e.remaining,
      saleStartsAt: e.saleStartsAt ?? null,
      saleEndsAt: e.saleEndsAt ?? null,
      pending: null,
      oversold: null,
      drift: null,
      reservations: null,
    };
    if (!this.d.adminEnabled) return base;
    // The audit is the truth the invariants are checked on: its sold wins over the list's.
    const a = await this.d.reservation.audit(e.id);
    return {
      ...base,
      capacity: a.capacity,
      sold: a.sold,
      remaining: a.capacity - a.sold,
      pending: a.pendingInQueue,
      oversold: a.oversold,
      drift: a.drift,
      reservations: a.reservations,
    };
  }

  private async round(): Promise<LiveState> {
    const t0 = process.hrtime.bigint();
    const { kube } = this.d;
    const [deployments, pods, autoscaler, events, sales, readiness, promUp, loadTests] =
      await Promise.all([
        this.section('kubernetes', () => kube.deployments()),
        this.section('kubernetes', () => kube.pods()),
        this.section('kubernetes', (): Promise<AutoscalerView> => kube.autoscalers()),
        this.section('kubernetes', () => kube.events()),
        this.section('reservation', () => this.sales()),
        this.section('reservation', () => this.d.reservation.readiness()),
        this.section('prometheus', () => this.d.prom.ping()),
        this.section('kubernetes', () => this.d.loadTests.list()),
      ]);
    const health = healthOf(deployments, promUp, readiness);
    for (const h of health)
      if (h.name === 'kubernetes' || h.name === 'prometheus' || h.name === 'reservation')
        this.d.metrics.upstreamUp.set({ upstream: h.name }, h.state === 'up' ? 1 : 0);

    const dep = deployments.ok
      ? deployments.data.find((x) => x.name === this.d.reservationDeployment)
      : undefined;
    const scaler =
      autoscaler.ok && autoscaler.data.installed
        ? (autoscaler.data.items.find((a) => a.target === this.d.reservationDeployment) ??
          autoscaler.data.items[0])
        : undefined;
    this.history.push({
      t: Date.now(),
      desired: dep?.desired ?? null,
      ready: dep?.ready ?? null,
      autoscalerDesired: scaler?.recommendedReplicas ?? null,
      reason: scaler?.lastReason ?? null,
    });
    const keep = this.d.historySize ?? 600;
    if (this.history.length > keep) this.history.splice(0, this.history.length - keep);

    const feed = [...this.errors, ...(events.ok ? events.data : [])]
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, 60);
    const state: LiveState = {
      at: new Date().toISOString(),
      namespace: this.d.namespace,
      health,
      deployments,
      pods,
      autoscaler,
      sales,
      feed,
      replicas: [...this.history],
      loadTests,
      adminEnabled: this.d.adminEnabled,
    };
    this.latest = state;
    this.d.metrics.collectDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
    for (const f of this.subscribers) f(state);
    return state;
  }
}

/** The health strip from what the round learned. */
export function healthOf(
  kube: Section<unknown>,
  prom: Section<unknown>,
  readiness: Section<{ ready: boolean; checks: Record<string, boolean> }>,
): Health[] {
  const light = (name: Health['name'], s: Section<unknown>, upDetail: string): Health =>
    s.ok
      ? { name, state: 'up', detail: upDetail }
      : { name, state: 'down', detail: s.error.message };
  const out: Health[] = [
    light('kubernetes', kube, 'API server answers'),
    light('prometheus', prom, 'queries answer'),
  ];
  if (!readiness.ok) {
    out.push({ name: 'reservation', state: 'down', detail: readiness.error.message });
    for (const dep of ['postgres', 'redis', 'nats'] as const)
      out.push({ name: dep, state: 'unknown', detail: 'the reservation service does not answer' });
    return out;
  }
  const { ready, checks } = readiness.data;
  const failing = Object.entries(checks)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  out.push({
    name: 'reservation',
    state: ready ? 'up' : 'down',
    detail: ready ? 'ready' : `not ready: ${failing.join(', ')}`,
  });
  for (const dep of ['postgres', 'redis', 'nats'] as const) {
    const ok = checks[dep];
    out.push({
      name: dep,
      state: ok === undefined ? 'unknown' : ok ? 'up' : 'down',
      detail:
        ok === undefined
          ? 'not reported'
          : ok
            ? 'reachable from the reservation service'
            : 'unreachable',
    });
  }
  return out;
}
