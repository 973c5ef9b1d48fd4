import type {
  AdmissionFilter,
  EventStore,
  Log,
  ReconcileReport,
  ReconcileResult,
} from './model.js';

/** Events untouched for this long are no longer reconciled (their drift was checked already). */
const ACTIVE_FOR_MS = 10 * 60_000;

/** Users per Redis command or Postgres page: bounds the longest Redis call, whatever the sale. */
export const RECONCILE_CHUNK = 1000;

/** At most this many chunks of unverified holders per run; the rest waits for the next tick. */
const MAX_CHUNKS_PER_RUN = 50;

/**
 * Keeps Redis in step with Postgres for recently active events at a cost that follows what changed,
 * not the sale's size (ADR 0030): each run reads the counters (O(1) in Redis and Postgres),
 * checks only the holders admitted since the last run (the unverified set) against Postgres, and
 * releases those that never got a row once older than the grace period. Only when the counters
 * say Redis lost holders (fewer holders than rows, or the counter itself) are the rows adopted
 * again, page by page; only when holders exist that neither have a row nor are tracked is the
 * holder hash walked with HSCAN. Finally remaining = capacity - holders. Reports drift.
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
      store: Pick<EventStore, 'counts' | 'holdersPage' | 'existingHolders'>;
      admission: Pick<
        AdmissionFilter,
        'counters' | 'adopt' | 'unverified' | 'settle' | 'scanHolders'
      >;
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
    const { store, admission, graceMs } = this.d;
    const counts = await store.counts(eventId);
    if (!counts) return null;
    const first = await admission.counters(eventId, counts.capacity, false);
    let added = 0;
    let released = 0;

    // Redis lost the counter or holders that have rows (a restart, an eviction): adopt the rows
    // again, one page per command, so no single Redis call grows with the sale.
    if (!first.existed || first.holders < counts.sold) {
      let after = '';
      for (;;) {
        const page = await store.holdersPage(eventId, after, RECONCILE_CHUNK);
        if (page.length) added += await admission.adopt(eventId, page, Date.now());
        if (page.length < RECONCILE_CHUNK) break;
        after = page[page.length - 1]!;
      }
    }

    // Holders admitted since the last run that are past the grace period: a row, or released.
    for (let i = 0; i < MAX_CHUNKS_PER_RUN; i++) {
      const now = Date.now();
      const users = await admission.unverified(eventId, now - graceMs, RECONCILE_CHUNK);
      if (!users.length) break;
      released += await this.settle(eventId, users, now);
      if (users.length < RECONCILE_CHUNK) break;
    }

    // Every Redis holder has a row or is unverified; more than both means untracked holders
    // (nothing writes them today, but Redis state can be restored from anywhere): walk them once.
    const mid = await admission.counters(eventId, counts.capacity, true);
    // sold read after the counters: a holder verified meanwhile has its row counted here.
    const sold = (await store.counts(eventId))?.sold ?? counts.sold;
    if (mid.holders > sold + mid.unverified) {
      this.d.log.warn({ eventId, ...mid, sold }, 'untracked redis holders; walking');
      let cursor = '0';
      do {
        const step = await admission.scanHolders(eventId, cursor, RECONCILE_CHUNK);
        cursor = step.cursor;
        // COUNT is a hint to Redis: keep each Postgres question within one chunk anyway.
        for (let i = 0; i < step.users.length; i += RECONCILE_CHUNK) {
          const chunk = step.users.slice(i, i + RECONCILE_CHUNK);
          released += await this.settle(eventId, chunk, Date.now());
        }
      } while (cursor !== '0');
    }

    const end = released ? await admission.counters(eventId, counts.capacity, true) : mid;
    const remaining = end.remaining ?? 0;
    // Holders without a row after settling are in flight (younger than the grace period).
    const young = Math.max(0, end.holders - sold);
    const drift = remaining - (counts.capacity - sold - young);
    const r: ReconcileResult = {
      rebuilt: !first.existed,
      added: first.existed ? added : 0,
      released,
      remaining,
      youngInFlight: young,
    };
    this.d.report.drift(eventId, drift);
    if (first.existed && first.remainingBefore !== first.remaining) {
      this.d.log.warn(
        { eventId, was: first.remainingBefore, now: first.remaining },
        'realigned redis remaining with its holders',
      );
    }
    if (r.rebuilt) {
      this.d.report.rebuilt(eventId);
      this.d.log.warn({ eventId, remaining }, 'rebuilt redis counters from postgres');
    }
    if (r.added) this.d.report.corrected('adopted', r.added);
    if (r.released) this.d.report.corrected('released', r.released);
    if (r.added || r.released) {
      this.d.log.info({ eventId, added: r.added, released: r.released, drift }, 'reconciled redis');
    }
    return r;
  }

  /** Checks these holders against Postgres; verified ones leave the set, stale ones are released. */
  private async settle(eventId: string, users: string[], now: number): Promise<number> {
    const withRow = await this.d.store.existingHolders(eventId, users);
    const without = users.filter((u) => !withRow.has(u));
    return this.d.admission.settle(eventId, [...withRow], without, now, this.d.graceMs);
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
