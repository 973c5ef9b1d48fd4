import { NotFoundError } from '../errors.js';
import type { Catalog } from './catalog.js';
import { reservationId } from './ids.js';
import type { AdmissionFilter, EventStore, Log, RequestQueue, ReservationRecord } from './model.js';

/** How the API answers a reservation request. Expected outcomes are values, not errors. */
export type ReserveOutcome =
  | { kind: 'sale_not_open'; startsAt: Date }
  | { kind: 'sale_closed'; endedAt: Date }
  /** Rejected: the event is sold out in Postgres and the user holds no ticket. */
  | { kind: 'sold_out'; record: ReservationRecord | null }
  /** The user held a ticket before this request. */
  | { kind: 'already_reserved'; record: ReservationRecord }
  | { kind: 'pending'; record: ReservationRecord }
  /** Decided while the client waited. */
  | { kind: 'confirmed'; record: ReservationRecord };

/** Waits (bounded) for the decision of one reservation. */
export interface DecisionWaiter {
  wait(reservationId: string, ms: number): Promise<ReservationRecord | null>;
}

export interface ReservationDeps {
  catalog: Pick<Catalog, 'event' | 'isSoldOut' | 'checkSoldOut' | 'holds' | 'eventOfReservation'>;
  store: Pick<EventStore, 'findReservation'>;
  admission: Pick<AdmissionFilter, 'peek' | 'getRecord' | 'recordAccepted'>;
  queue: Pick<RequestQueue, 'publish'>;
  waiter: DecisionWaiter;
  log: Log;
  now?: () => number;
}

/**
 * The request path's use cases: accept a reservation request (the fast path) and report a
 * reservation's status. Redis only ever makes the answer faster; every "sold out" said here was
 * read from Postgres, and a user's own record is consulted before it.
 */
export class Reservations {
  private readonly now: () => number;

  constructor(private readonly d: ReservationDeps) {
    this.now = d.now ?? Date.now;
  }

  async reserve(eventId: string, userId: string, waitMs: number): Promise<ReserveOutcome> {
    const event = await this.d.catalog.event(eventId);
    if (!event) throw new NotFoundError('event_not_found', `event ${eventId} does not exist`);
    eventId = event.id;
    const now = this.now();
    if (event.saleStartsAt && now < event.saleStartsAt.getTime()) {
      return { kind: 'sale_not_open', startsAt: event.saleStartsAt };
    }
    const rid = reservationId(eventId, userId);
    const base = { reservationId: rid, eventId, userId };

    if (this.d.catalog.isSoldOut(eventId)) return this.finalAnswer(base);

    // The user's own record comes first: a user with an accepted request is never turned away
    // by a cached "sold out". Redis being down only costs the shortcut.
    let remaining: number | null = null;
    let record: ReservationRecord | null = null;
    try {
      ({ remaining, record } = await this.d.admission.peek(eventId, rid));
    } catch (err) {
      this.d.log.warn({ err, eventId }, 'redis peek failed; accepting without the fast path');
    }
    if (record?.status === 'confirmed') return { kind: 'already_reserved', record };
    if (record?.status === 'rejected') return { kind: 'sold_out', record };

    if (!record && event.saleEndsAt && now >= event.saleEndsAt.getTime()) {
      return { kind: 'sale_closed', endedAt: event.saleEndsAt };
    }
    if (!record && (remaining === null || remaining <= 0)) {
      // Redis says no stock (or lost its counters); only Postgres may say sold out. Until it does,
      // the request queues.
      const soldOut = await this.d.catalog.checkSoldOut(eventId).catch((err: unknown) => {
        this.d.log.warn({ err, eventId }, 'sold-out check failed; queueing the request');
        return false;
      });
      if (soldOut) return this.finalAnswer(base);
    }

    const acceptedAt = record?.acceptedAt ?? now;
    // A retry republishes with the same message id: a no-op inside the duplicate window, and an
    // idempotent redelivery after it.
    await this.d.queue.publish({ v: 1, ...base, acceptedAt });
    const pending: ReservationRecord = { ...base, status: 'pending', acceptedAt };
    if (!record) {
      await this.d.admission.recordAccepted(pending).catch((err: unknown) => {
        // The stream holds the request; the worker writes the record when it decides.
        this.d.log.warn({ err, reservationId: rid }, 'could not record the accepted request');
      });
    }
    if (waitMs > 0) {
      const decided = await this.d.waiter.wait(rid, waitMs);
      if (decided?.status === 'confirmed') return { kind: 'confirmed', record: decided };
      if (decided?.status === 'rejected') return { kind: 'sold_out', record: decided };
    }
    return { kind: 'pending', record: pending };
  }

  /**
   * The event is sold out in Postgres, which is final: the user either holds a ticket or never
   * will. A user whose request was accepted before (Redis has its record) is told their
   * reservation was rejected, with its id, as on their first answer; a user who never got in is
   * only told sold out. Redis being down costs the id, not the answer.
   */
  private async finalAnswer(base: {
    reservationId: string;
    eventId: string;
    userId: string;
  }): Promise<ReserveOutcome> {
    if (await this.d.catalog.holds(base.eventId, base.userId)) {
      return { kind: 'already_reserved', record: { ...base, status: 'confirmed' } };
    }
    const known = await this.d.admission.getRecord(base.reservationId).catch((err: unknown) => {
      this.d.log.warn({ err, reservationId: base.reservationId }, 'redis record read failed');
      return null;
    });
    if (!known) return { kind: 'sold_out', record: null };
    return {
      kind: 'sold_out',
      record: { ...base, status: 'rejected', reason: 'sold_out', acceptedAt: known.acceptedAt },
    };
  }

  /**
   * A reservation's status: a row in Postgres → confirmed; a stored rejection, or the event sold
   * out in Postgres without the user's row → rejected; otherwise pending. When Redis lost the
   * request's record, the event is found from the id itself, so a rejection stays readable.
   */
  async status(id: string): Promise<ReservationRecord> {
    const row = await this.d.store.findReservation(id);
    if (row) return { reservationId: id, ...row, status: 'confirmed' };
    const rec = await this.d.admission.getRecord(id).catch((err: unknown) => {
      this.d.log.warn(
        { err, reservationId: id },
        'redis record read failed; deriving from postgres',
      );
      return null;
    });
    if (rec?.status === 'rejected') return { ...rec, reason: 'sold_out' };
    const eventId = rec?.eventId ?? (await this.d.catalog.eventOfReservation(id));
    if (eventId && (await this.d.catalog.checkSoldOut(eventId))) {
      // Sold out is final: no row can appear any more, so this second look is the last word.
      const late = await this.d.store.findReservation(id);
      if (late) return { reservationId: id, ...late, status: 'confirmed' };
      if (rec) return { ...rec, status: 'rejected', reason: 'sold_out' };
      return { reservationId: id, eventId, userId: '', status: 'rejected', reason: 'sold_out' };
    }
    if (!rec) throw new NotFoundError('reservation_not_found', `reservation ${id} is unknown`);
    if (rec.status === 'confirmed' && (await this.d.store.findReservation(id))) return rec;
    // Otherwise still pending (a "confirmed" in Redis without a row is not trusted: Postgres decides).
    return { ...rec, status: 'pending', reason: undefined };
  }
}
