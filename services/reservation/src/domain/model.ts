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
  /**
   * One page of the event's holders in user id order, after `afterUserId` (keyset pagination on
   * the unique index, so each page costs its own size, never the sale's).
   */
  holdersPage(eventId: string, afterUserId: string, limit: number): Promise<string[]>;
  /** Which of these users already hold a reservation for the event. */
  existingHolders(eventId: string, userIds: string[]): Promise<Set<string>>;
  /**
   * One transaction: locks the event row, gives as many of the (new) winners as seats remain the
   * next seat numbers, in order, one row each; sold is the highest seat afterwards.
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

/** The event's counters in Redis, read (and remaining realigned) in O(1). */
export interface Counters {
  /** The remaining counter existed before this call (false: Redis lost it). */
  existed: boolean;
  remainingBefore: number | null;
  /** Holders in Redis (with a row, or admitted and not yet committed). */
  holders: number;
  /** Admitted holders not yet seen with a Postgres row. */
  unverified: number;
  /** remaining after the call: capacity - holders; null when it did not exist and was not created. */
  remaining: number | null;
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
  /** Forget these holders (Postgres refused them); remaining is recounted by counters(). */
  release(eventId: string, users: string[]): Promise<void>;
  /**
   * O(1): holders, unverified holders and remaining; sets remaining = capacity - holders when it
   * exists or `create` is true.
   */
  counters(eventId: string, capacity: number, create: boolean): Promise<Counters>;
  /** Adds users holding a Postgres row as holders (a seat each when new). Returns how many were new. */
  adopt(eventId: string, users: string[], nowMs: number): Promise<number>;
  /** Up to `limit` unverified holders admitted at or before `upToMs`, oldest first. */
  unverified(eventId: string, upToMs: number, limit: number): Promise<string[]>;
  /**
   * Marks `withRow` verified; releases each of `withoutRow` whose last decision is older than the
   * grace period (younger ones stay unverified). Returns how many were released.
   */
  settle(
    eventId: string,
    withRow: string[],
    withoutRow: string[],
    nowMs: number,
    graceMs: number,
  ): Promise<number>;
  /** One HSCAN step over the event's holders. */
  scanHolders(
    eventId: string,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; users: string[] }>;
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
