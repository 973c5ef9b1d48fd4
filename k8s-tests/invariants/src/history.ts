// What each client was told, answer by answer: the client side of the verdict. Plain data (no
// classes, no Maps inside a user's record) so a run in another process — a k6 script's log, an
// in-cluster runner — can hand its history over as JSON.

/** What one answer means for the ticket, whatever route it took (fast path, wait, status poll). */
export type Outcome =
  /** 202 (or a poll reading `pending`): the request is in the queue, not decided yet. */
  | 'accepted'
  /** 201 or a poll reading `confirmed`: the user was told they hold a ticket. */
  | 'confirmed'
  /** 409 `already_reserved`: told they already hold a ticket (a confirmed claim as well). */
  | 'alreadyReserved'
  /** 409 `sold_out` or a poll reading `rejected`: told they hold no ticket. */
  | 'rejected'
  | 'notOpen'
  | 'closed'
  | 'unavailable'
  | 'rateLimited'
  /** No HTTP answer at all (refused, reset, timed out): no claim about the ticket. */
  | 'error'
  | 'unexpected';

/** One answer as the client saw it. `status` 0 is a request that got no HTTP answer. */
export interface Told {
  status: number;
  code?: string;
  /** The reservation's state when the answer names it (`status` in the body). */
  state?: string;
  reservationId?: string;
  outcome: Outcome;
}

/** The state a status poll read last (`unknown`: the poll found no such reservation or failed). */
export type FinalStatus = 'pending' | 'confirmed' | 'rejected' | 'unknown';

/** Everything one user was told about one sale. */
export interface UserHistory {
  userId: string;
  /** Reservation requests sent (status polls are not attempts). */
  attempts: number;
  answers: Told[];
  /** The reservation id the answers named (the first one; the verdict checks they all agree). */
  reservationId?: string;
  /** What the last status poll after the load read, if the user was polled. */
  final?: FinalStatus;
}

/** Everything a crowd was told about one sale. */
export interface SaleHistory {
  eventId: string;
  users: Map<string, UserHistory>;
}

/** A sale nobody has been told anything about yet. */
export function newSaleHistory(eventId: string): SaleHistory {
  return { eventId, users: new Map() };
}

/** The user's record in a sale's history, created on first use. */
export function userOf(sale: SaleHistory, userId: string): UserHistory {
  let h = sale.users.get(userId);
  if (!h) sale.users.set(userId, (h = { userId, attempts: 0, answers: [] }));
  return h;
}

/** What an answer to a reservation request (or a status poll) says about the ticket. */
export function classify(status: number, body: Record<string, unknown>): Outcome {
  const code = typeof body.code === 'string' ? body.code : undefined;
  const state = typeof body.status === 'string' ? body.status : undefined;
  if (status === 0) return 'error';
  if ((status === 200 || status === 201) && state === 'confirmed') return 'confirmed';
  if ((status === 200 || status === 202) && state === 'pending') return 'accepted';
  if (status === 200 && state === 'rejected') return 'rejected';
  if (status === 409 && code === 'sold_out') return 'rejected';
  if (status === 409 && code === 'already_reserved') return 'alreadyReserved';
  if (status === 409 && code === 'sale_not_open') return 'notOpen';
  if (status === 409 && code === 'sale_closed') return 'closed';
  if (status === 503) return 'unavailable';
  if (status === 429) return 'rateLimited';
  return 'unexpected';
}

/** Records the answer to one reservation request in the user's history. */
export function recordAnswer(h: UserHistory, status: number, body: Record<string, unknown>): Told {
  const told: Told = { status, outcome: classify(status, body) };
  if (typeof body.code === 'string') told.code = body.code;
  if (typeof body.status === 'string') told.state = body.status;
  if (typeof body.reservationId === 'string') {
    told.reservationId = body.reservationId;
    h.reservationId ??= body.reservationId;
  }
  h.attempts++;
  h.answers.push(told);
  return told;
}

/** Records a request that got no HTTP answer (it makes no claim about the ticket). */
export function recordError(h: UserHistory): void {
  h.attempts++;
  h.answers.push({ status: 0, outcome: 'error' });
}

/** Records what a status poll read (`GET /v1/reservations/{id}`): 200 with a state, or not found. */
export function recordFinal(h: UserHistory, status: number, body: Record<string, unknown>): void {
  const state = body.status;
  h.final =
    status === 200 && (state === 'pending' || state === 'confirmed' || state === 'rejected')
      ? state
      : 'unknown';
}

/** The key an answer is tallied under: `202`, `409 sold_out`, `0` for no answer. */
export function answerKey(t: Pick<Told, 'status' | 'code'>): string {
  return t.code ? `${t.status} ${t.code}` : String(t.status);
}

/** How many answers of each kind (`answerKey`) a history holds. */
export function tally(users: Iterable<UserHistory>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const h of users)
    for (const t of h.answers) out[answerKey(t)] = (out[answerKey(t)] ?? 0) + 1;
  return out;
}
