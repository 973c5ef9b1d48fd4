// The domain's vocabulary and the ports its use cases need. Adapters (Postgres, Redis, NATS)
// implement the ports; nothing in domain/ knows about express, ioredis, pg, nats, prom-client or
// pino (eslint.config.js holds that boundary).

/**
 * The log lines the use cases write: object first, message second. pino's Logger fits it; the
 * request id is added by the logger itself (see src/context.ts), not passed down.
 */
export interface Log {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface SaleEvent {
  id: string;
  name: string;
  capacity: number;
  saleStartsAt: Date | null;
  saleEndsAt: Date | null;
  createdAt: Date;
}

export type EventState = 'scheduled' | 'open' | 'sold_out' | 'closed';

export interface EventView extends SaleEvent {
  sold: number;
  remaining: number;
  state: EventState;
}

export type ReservationStatus = 'pending' | 'confirmed' | 'rejected';

export interface ReservationRecord {
  reservationId: string;
  eventId: string;
  userId: string;
  status: ReservationStatus;
  reason?: 'sold_out' | undefined;
  /** ms since epoch when the API accepted the request (202), if known. */
  acceptedAt?: number | undefined;
}

/** The body of a message in the request stream. */
export interface ReservationRequest {
  v: 1;
  reservationId: string;
  eventId: string;
  userId: string;
  acceptedAt: number;
}

/** Postgres: the truth. */
export interface EventStore {
  createEvent(e: Omit<SaleEvent, 'createdAt'>): Promise<SaleEvent>;
  getEvent(id: string): Promise<SaleEvent | null>;
  listEvents(limit: number): Promise<Array<SaleEvent & { sold: number }>>;
  counts(id: string): Promise<{ capacity: number; sold: number } | null>;
  /** capacity, sold and every holder, from one snapshot. */
  snapshot(id: string): Promise<{ capacity: number; sold: number; users: string[] } | null>;
  /** Which of these users already hold a reservation for the event. */
  existingHolders(eventId: string, userIds: string[]): Promise<Set<string>>;
  /**
   * One transaction: locks the event row, inserts reservations for as many of the (new) winners
   * as seats remain, in order, and raises sold by the number inserted with a conditional update.
   */
  commitWinners(
    eventId: string,
    winners: Array<{ reservationId: string; userId: string }>,
  ): Promise<{ confirmed: string[]; refused: string[]; sold: number; capacity: number }>;
  /** In one snapshot: is the event sold out, and which of these users hold a row. */
  losersCheck(eventId: string, userIds: string[]): Promise<{ full: boolean; withRow: Set<string> }>;
  findReservation(id: string): Promise<{ eventId: string; userId: string } | null>;
  listEventIds(): Promise<string[]>;
  audit(eventId: string): Promise<{
    capacity: number;
    sold: number;
    reservations: number;
    duplicateHolders: number;
  } | null>;
  ping(): Promise<void>;
}

export type AdmitResult = 'won' | 'holder' | 'sold_out';

export interface ReconcileResult {
  rebuilt: boolean;
  added: number;
  released: number;
  remaining: number;
  /** Redis holders without a Postgres row that are younger than the grace period. */
  youngInFlight: number;
}

/** Redis: the admission filter and the cache of request records. */
export interface AdmissionFilter {
  /**
   * Atomically: adopt `adopt` as holders (they hold a row already), then for each of `users`:
   * holder again, a new winner (stock decremented) or sold out. null when the event's counters
   * are missing (Redis lost them) and must be rebuilt first.
   */
  admit(
    eventId: string,
    users: string[],
    adopt: string[],
    nowMs: number,
  ): Promise<AdmitResult[] | null>;
  /** Forget these holders (Postgres refused them); remaining is recomputed by reconcile(). */
  release(eventId: string, users: string[]): Promise<void>;
  /** Aligns holders and remaining with the Postgres snapshot (rebuilds when missing). */
  reconcile(
    eventId: string,
    capacity: number,
    pgUsers: string[],
    nowMs: number,
    graceMs: number,
  ): Promise<ReconcileResult>;
  remaining(eventId: string): Promise<number | null>;
  /** The remaining count and the user's record, in one round trip. */
  peek(
    eventId: string,
    reservationId: string,
  ): Promise<{ remaining: number | null; record: ReservationRecord | null }>;
  getRecord(reservationId: string): Promise<ReservationRecord | null>;
  /** Writes a pending record unless a decision is already stored. */
  recordAccepted(rec: ReservationRecord): Promise<void>;
  recordDecisions(recs: ReservationRecord[]): Promise<void>;
  ping(): Promise<void>;
}

/** JetStream: the durable queue of accepted requests. */
export interface RequestQueue {
  /** Resolves once the broker acknowledged the message; throws UnavailableError otherwise. */
  publish(req: ReservationRequest): Promise<void>;
  pendingFor(eventId: string): Promise<number>;
}

/** Core NATS: decisions fan out to API pods with waiting clients and to the dashboard. */
export interface DecisionBus {
  publish(decisions: ReservationRecord[]): void;
}

/** What the reconciler reports (metrics in production, a list in tests). */
export interface ReconcileReport {
  /** Redis remaining minus what Postgres implies, for a recently active event. */
  drift(eventId: string, value: number): void;
  /** The event is no longer active: stop reporting its drift. */
  forget(eventId: string): void;
  /** Redis had lost the event's counters; they were rebuilt from Postgres. */
  rebuilt(eventId: string): void;
  /** Holders adopted from Postgres rows or released as stale. */
  corrected(kind: 'adopted' | 'released', count: number): void;
}
