import type {
  AdmissionFilter,
  EventStore,
  Log,
  ReconcileReport,
  ReconcileResult,
} from './model.js';

/** Events untouched for this long are no longer reconciled (their drift was checked already). */
const ACTIVE_FOR_MS = 10 * 60_000;

/**
 * Keeps Redis in step with Postgres for recently active events: rebuilds counters Redis lost,
 * adopts holders that have a row, releases holders that never got one (only after a grace period,
 * so in-flight batches are not disturbed), and sets remaining = capacity - holders. Reports drift.
 */
export class Reconciler {
  private readonly active = new Map<string, number>();
  private readonly kicked = new Set<string>();
  private readonly running = new Map<string, Promise<ReconcileResult | null>>();
  private timer: NodeJS.Timeout | undefined;
  private kickTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly d: {
      store: Pick<EventStore, 'snapshot'>;
      admission: Pick<AdmissionFilter, 'reconcile'>;
      report: ReconcileReport;
      log: Log;
      intervalMs: number;
      graceMs: number;
    },
  ) {}

  touch(eventId: string): void {
    this.active.set(eventId, Date.now());
  }

  /** Reconcile this event soon (coalesced). */
  kick(eventId: string): void {
    this.touch(eventId);
    this.kicked.add(eventId);
    this.kickTimer ??= setTimeout(() => {
      this.kickTimer = undefined;
      const ids = [...this.kicked];
      this.kicked.clear();
      for (const id of ids) void this.reconcile(id).catch(() => undefined);
    }, 50);
  }

  /** Aligns Redis with Postgres for one event now; concurrent calls for one event share a run. */
  reconcile(eventId: string): Promise<ReconcileResult | null> {
    let p = this.running.get(eventId);
    if (!p) {
      p = this.run(eventId).finally(() => this.running.delete(eventId));
      this.running.set(eventId, p);
    }
    return p;
  }

  private async run(eventId: string): Promise<ReconcileResult | null> {
    const snap = await this.d.store.snapshot(eventId);
    if (!snap) return null;
    const r = await this.d.admission.reconcile(
      eventId,
      snap.capacity,
      snap.users,
      Date.now(),
      this.d.graceMs,
    );
    const drift = r.remaining - (snap.capacity - snap.sold - r.youngInFlight);
    this.d.report.drift(eventId, drift);
    if (r.rebuilt) {
      this.d.report.rebuilt(eventId);
      this.d.log.warn({ eventId, remaining: r.remaining }, 'rebuilt redis counters from postgres');
    }
    if (r.added) this.d.report.corrected('adopted', r.added);
    if (r.released) this.d.report.corrected('released', r.released);
    if (r.added || r.released) {
      this.d.log.info({ eventId, added: r.added, released: r.released, drift }, 'reconciled redis');
    }
    return r;
  }

  /** Reconciles every recently active event each interval until stop(). */
  start(): void {
    const tick = async () => {
      const now = Date.now();
      for (const [id, at] of this.active) {
        if (now - at > ACTIVE_FOR_MS) {
          this.active.delete(id);
          this.d.report.forget(id);
          continue;
        }
        try {
          await this.reconcile(id);
        } catch (err) {
          this.d.log.warn({ err, eventId: id }, 'reconcile failed; will retry');
        }
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.d.intervalMs);
    };
    this.stopped = false;
    this.timer = setTimeout(() => void tick(), this.d.intervalMs);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.kickTimer);
    this.timer = undefined;
  }
}
