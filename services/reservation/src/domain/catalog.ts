import { eventTag, tagOfReservation } from './ids.js';
import type { EventStore, SaleEvent } from './model.js';

/** The store methods the catalog reads. */
export type CatalogStore = Pick<
  EventStore,
  'getEvent' | 'listEventIds' | 'counts' | 'holdersPage' | 'existingHolders'
>;

/**
 * Above this capacity the frozen holder set is not kept in memory; holders are asked per batch
 * (an index lookup). Small, so freezing a big sale never loads every holder into every process.
 */
const FROZEN_SET_MAX = 10_000;
const FREEZE_PAGE = 2_000;

interface Frozen {
  /** Holders once sold out (final: sold never goes down), or null when too large to keep. */
  users: Set<string> | null;
}

/**
 * What a process knows about events without asking anyone: their definitions (immutable once
 * created), unknown ids (briefly), and — once Postgres said so — that an event is sold out, which
 * is final, with the set of its holders. The fast path answers from here; nothing here is guessed
 * from Redis.
 */
export class Catalog {
  private readonly known = new Map<string, SaleEvent>();
  private readonly unknownUntil = new Map<string, number>();
  private readonly loading = new Map<string, Promise<SaleEvent | null>>();
  private readonly frozen = new Map<string, Frozen>();
  private readonly notFullUntil = new Map<string, number>();
  private readonly checking = new Map<string, Promise<boolean>>();

  private readonly byTag = new Map<string, string>();
  private tagsLoadedAt = 0;

  constructor(
    private readonly store: CatalogStore,
    private readonly opts: { missTtlMs: number; notFullTtlMs: number },
  ) {}

  /** The event, or null when Postgres does not know it. Concurrent callers share one query. */
  async event(id: string): Promise<SaleEvent | null> {
    const hit = this.known.get(id);
    if (hit) return hit;
    const until = this.unknownUntil.get(id);
    if (until !== undefined && until > Date.now()) return null;
    let p = this.loading.get(id);
    if (!p) {
      p = this.store.getEvent(id).finally(() => this.loading.delete(id));
      this.loading.set(id, p);
    }
    const e = await p;
    if (e) this.remember(e);
    else {
      // Anyone can send random ids: keep this map small.
      if (this.unknownUntil.size > 10_000) this.unknownUntil.clear();
      this.unknownUntil.set(id, Date.now() + this.opts.missTtlMs);
    }
    return e;
  }

  remember(e: SaleEvent): void {
    this.known.set(e.id, e);
    this.unknownUntil.delete(e.id);
    this.byTag.set(eventTag(e.id), e.id);
  }

  /** The event a reservation id belongs to (its first bits are the event's tag), or null. */
  async eventOfReservation(reservationId: string): Promise<string | null> {
    const tag = tagOfReservation(reservationId);
    const hit = this.byTag.get(tag);
    if (hit) return hit;
    if (Date.now() - this.tagsLoadedAt < this.opts.missTtlMs) return null;
    this.tagsLoadedAt = Date.now();
    for (const id of await this.store.listEventIds()) this.byTag.set(eventTag(id), id);
    return this.byTag.get(tag) ?? null;
  }

  /** True once Postgres said sold == capacity (then forever). */
  isSoldOut(eventId: string): boolean {
    return this.frozen.has(eventId);
  }

  /**
   * Asks Postgres (at most once per notFullTtlMs per event, shared by concurrent callers) whether
   * the event is sold out; when it is, loads its holders and remembers both for good.
   */
  async checkSoldOut(eventId: string): Promise<boolean> {
    if (this.frozen.has(eventId)) return true;
    const until = this.notFullUntil.get(eventId);
    if (until !== undefined && until > Date.now()) return false;
    let p = this.checking.get(eventId);
    if (!p) {
      p = (async () => {
        const c = await this.store.counts(eventId);
        if (!c || c.sold < c.capacity) {
          this.notFullUntil.set(eventId, Date.now() + this.opts.notFullTtlMs);
          return false;
        }
        await this.freeze(eventId, c.capacity);
        return true;
      })().finally(() => this.checking.delete(eventId));
      this.checking.set(eventId, p);
    }
    return p;
  }

  /** A worker saw sold == capacity after its own commit. */
  async noteCounts(eventId: string, sold: number, capacity: number): Promise<void> {
    if (sold >= capacity && !this.frozen.has(eventId)) await this.freeze(eventId, capacity);
  }

  private async freeze(eventId: string, capacity: number): Promise<void> {
    if (capacity > FROZEN_SET_MAX) {
      this.frozen.set(eventId, { users: null });
      return;
    }
    // Sold out is final, so no row appears or goes while the pages are read.
    const users = new Set<string>();
    let after = '';
    for (;;) {
      const page = await this.store.holdersPage(eventId, after, FREEZE_PAGE);
      for (const u of page) users.add(u);
      if (page.length < FREEZE_PAGE) break;
      after = page[page.length - 1]!;
    }
    this.frozen.set(eventId, { users });
  }

  /**
   * For a sold-out event: does the user hold a ticket? Answered from memory, or from Postgres for
   * very large events. Only call when isSoldOut(eventId).
   */
  async holds(eventId: string, userId: string): Promise<boolean> {
    const f = this.frozen.get(eventId);
    if (f?.users) return f.users.has(userId);
    return (await this.store.existingHolders(eventId, [userId])).has(userId);
  }

  /** holds() for many users: one Postgres query at most. Only call when isSoldOut(eventId). */
  async holdsMany(eventId: string, userIds: string[]): Promise<Set<string>> {
    const f = this.frozen.get(eventId);
    if (f?.users) return new Set(userIds.filter((u) => f.users!.has(u)));
    return this.store.existingHolders(eventId, userIds);
  }
}
