import type { Catalog } from './catalog.js';
import type {
  AdmissionFilter,
  EventStore,
  Log,
  ReservationRecord,
  ReservationRequest,
} from './model.js';

/** What the worker does with each message of a batch. */
export type Verdict =
  | { action: 'ack'; record: ReservationRecord }
  | { action: 'nak'; why: string }
  | { action: 'term'; reason: 'unknown_event' };

export interface DecideDeps {
  catalog: Pick<Catalog, 'event' | 'isSoldOut' | 'holdsMany' | 'noteCounts'>;
  store: Pick<EventStore, 'existingHolders' | 'commitWinners' | 'losersCheck'>;
  admission: Pick<AdmissionFilter, 'admit' | 'release'>;
  log: Log;
  /** Asks the reconciler to align Redis with Postgres for the event soon. */
  kick(eventId: string): void;
  /** Rebuilds Redis counters of the event from Postgres now. */
  rebuild(eventId: string): Promise<void>;
  now?: () => number;
}

/**
 * Decides a batch of accepted requests. Per event: users who hold a row are confirmed again
 * (redelivery); the Redis script admits the rest or says sold out; winners are committed to Postgres
 * in one transaction; a "sold out" from Redis becomes a rejection only if Postgres is sold out too,
 * else the message is redelivered later. Every step is idempotent, so a crash anywhere converges.
 * Throws on transient failures (the caller naks the event's messages).
 */
export class Decider {
  private readonly now: () => number;

  constructor(private readonly d: DecideDeps) {
    this.now = d.now ?? Date.now;
  }

  /** Decides the requests of one event. Returns a verdict per request, in order. */
  async decideEvent(eventId: string, reqs: ReservationRequest[]): Promise<Verdict[]> {
    const event = await this.d.catalog.event(eventId);
    if (!event) return reqs.map(() => ({ action: 'term', reason: 'unknown_event' }));

    const users = [...new Set(reqs.map((r) => r.userId))];
    const status = new Map<string, 'confirmed' | 'rejected'>();

    if (this.d.catalog.isSoldOut(eventId)) {
      const held = await this.d.catalog.holdsMany(eventId, users);
      for (const u of users) status.set(u, held.has(u) ? 'confirmed' : 'rejected');
      return this.verdicts(reqs, status);
    }

    // A user with a row is confirmed whatever Redis says (redelivery after a commit, or Redis lost
    // its holders); passing them to admit() re-adopts them as holders without double counting.
    const existing = await this.d.store.existingHolders(eventId, users);
    for (const u of existing) status.set(u, 'confirmed');
    const fresh = users.filter((u) => !existing.has(u));

    let results = await this.d.admission.admit(eventId, fresh, [...existing], this.now());
    if (!results) {
      await this.d.rebuild(eventId);
      results = await this.d.admission.admit(eventId, fresh, [...existing], this.now());
      if (!results)
        throw new Error(`redis counters of event ${eventId} are missing after a rebuild`);
    }

    const winners: Array<{ reservationId: string; userId: string }> = [];
    const losers: string[] = [];
    fresh.forEach((u, i) => {
      if (results[i] === 'sold_out') losers.push(u);
      else
        winners.push({ reservationId: reqs.find((r) => r.userId === u)!.reservationId, userId: u });
    });

    if (winners.length) {
      const c = await this.d.store.commitWinners(eventId, winners);
      for (const u of c.confirmed) status.set(u, 'confirmed');
      if (c.refused.length) {
        // Redis admitted more than Postgres had seats for (it drifted high): Postgres wins.
        this.d.log.warn({ eventId, refused: c.refused.length }, 'postgres refused redis winners');
        await this.d.admission.release(eventId, c.refused);
        losers.push(...c.refused);
        this.d.kick(eventId);
      }
      await this.d.catalog.noteCounts(eventId, c.sold, c.capacity);
    }

    if (losers.length) {
      const lc = await this.d.store.losersCheck(eventId, losers);
      for (const u of losers) {
        if (lc.withRow.has(u)) status.set(u, 'confirmed');
        else if (lc.full) status.set(u, 'rejected');
      }
      if (!lc.full) {
        // Redis says no stock but Postgres has seats: in-flight winners elsewhere, or drift.
        // Not a truth we may tell yet; try again shortly.
        this.d.kick(eventId);
      } else {
        await this.d.catalog.noteCounts(eventId, event.capacity, event.capacity);
      }
    }
    return this.verdicts(reqs, status);
  }

  private verdicts(
    reqs: ReservationRequest[],
    status: Map<string, 'confirmed' | 'rejected'>,
  ): Verdict[] {
    return reqs.map((r) => {
      const s = status.get(r.userId);
      if (!s) return { action: 'nak', why: 'not sold out in postgres yet' };
      return {
        action: 'ack',
        record: {
          reservationId: r.reservationId,
          eventId: r.eventId,
          userId: r.userId,
          status: s,
          ...(s === 'rejected' ? { reason: 'sold_out' as const } : {}),
          acceptedAt: r.acceptedAt,
        },
      };
    });
  }
}
