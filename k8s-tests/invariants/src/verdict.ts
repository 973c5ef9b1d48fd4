// The verdict on one sale: I1–I6 judged from what each client was told (the history) and what the
// stores hold (the snapshot). Pure: no I/O, so every caller — the service tests, `make chaos-local`,
// the in-cluster chaos run — gets the same judgement and the same field names.
import type { UserHistory } from './history.js';
import type { Snapshot } from './snapshot.js';

/** The checks of a verdict: the six invariants, and whether the queue had drained. */
export type CheckId = 'I1' | 'I2' | 'I3' | 'I4' | 'I5' | 'I6' | 'drained';

/** One check's result: `count` violations (0 when it holds), a few concrete examples. */
export interface Check {
  ok: boolean;
  /** False when the snapshot lacked what the check needs (that is a failed check, not a pass). */
  checked: boolean;
  count: number;
  /** One line: what was found. */
  summary: string;
  /** Up to `EXAMPLES` cases, each starting with the user id (or the figure) at fault. */
  examples: string[];
}

/** How many examples a check keeps. */
export const EXAMPLES = 5;

/** The verdict: the figures every caller reports, one result per check, and the violations. */
export interface Verdict {
  ok: boolean;
  /** Reservation requests sent, by every user of the sale(s). */
  attempts: number;
  users: number;
  /** Users with at least one 202 (or a poll reading pending). */
  accepted: number;
  /** Users told they hold a ticket (201, a poll reading confirmed, 409 already_reserved). */
  confirmed: number;
  /** Users told they hold none (409 sold_out, a poll reading rejected). */
  rejected: number;
  capacity: number;
  sold: number;
  reservations: number;
  /** I1: tickets beyond capacity (by `sold` or by rows, whichever is larger). */
  oversold: number;
  /** I1: reservation rows minus `sold` (must be 0). */
  soldMismatch: number;
  /** I2: users holding more than one row, or named by more than one reservation id. */
  duplicateHolders: number;
  /** I3: users accepted (202) whose request was never decided (or whose last poll was not final). */
  lostAcceptances: number;
  /** I4: tickets left unsold although at least `capacity` distinct users asked. */
  undersold: number;
  /** I5: users told something the database contradicts. */
  untruthful: number;
  /** I6: Redis remaining − (capacity − sold); null when it could not be read (a failed check). */
  drift: number | null;
  /** Messages of the sale still in the queue when the snapshot was taken. */
  stillPending: number;
  checks: Record<CheckId, Check>;
  /** One line per failed check, e.g. `I5 2 users were told something untrue: u-3 told …`. */
  violations: string[];
}

const claimsTicket = (h: UserHistory) =>
  h.final === 'confirmed' ||
  h.answers.some((t) => t.outcome === 'confirmed' || t.outcome === 'alreadyReserved');
const claimsNoTicket = (h: UserHistory) =>
  h.final === 'rejected' || h.answers.some((t) => t.outcome === 'rejected');
const wasAccepted = (h: UserHistory) => h.answers.some((t) => t.outcome === 'accepted');
/** Told anything about the ticket itself: the user asked while the sale was open. */
const asked = (h: UserHistory) =>
  h.answers.some((t) =>
    ['accepted', 'confirmed', 'alreadyReserved', 'rejected'].includes(t.outcome),
  );

/** Collects the violators of one check: a count and the first few examples. */
class Finding {
  count = 0;
  readonly examples: string[] = [];
  add(example: string): void {
    this.count++;
    if (this.examples.length < EXAMPLES) this.examples.push(example);
  }
  check(summary: string, checked = true): Check {
    return {
      ok: checked && this.count === 0,
      checked,
      count: this.count,
      summary,
      examples: this.examples,
    };
  }
}

/**
 * Judges one sale. `history` is what each user was told (after the status polls that follow the
 * load); `snapshot` what the stores held once the queue drained; `attempts` overrides the sum of the
 * users' attempts (a caller that counts requests itself).
 */
export function judge(
  history: Iterable<UserHistory>,
  snapshot: Snapshot,
  opts: { attempts?: number } = {},
): Verdict {
  const users = [...history];
  const capacity = snapshot.event?.capacity ?? 0;
  const sold = snapshot.event?.sold ?? 0;
  const rowsByUser = new Map<string, string[]>();
  for (const r of snapshot.rows)
    rowsByUser.set(r.userId, [...(rowsByUser.get(r.userId) ?? []), r.reservationId]);
  const reservations = snapshot.rows.length;

  // I1 no oversell: sold <= capacity and count(reservations) == sold.
  const i1 = new Finding();
  const oversold = snapshot.event ? Math.max(0, Math.max(sold, reservations) - capacity) : 0;
  const soldMismatch = reservations - sold;
  if (!snapshot.event) i1.add(`event ${snapshot.eventId} has no row in Postgres`);
  if (oversold) i1.add(`sold=${sold} rows=${reservations} capacity=${capacity}`);
  if (soldMismatch) i1.add(`rows=${reservations} but sold=${sold}`);

  // I2 one per user: one row per user, and one reservation id per user in every answer and row.
  const i2 = new Finding();
  const byUser = new Map(users.map((h) => [h.userId, h]));
  for (const u of new Set([...rowsByUser.keys(), ...byUser.keys()])) {
    const rows = rowsByUser.get(u) ?? [];
    const ids = new Set([
      ...rows,
      ...(byUser.get(u)?.answers.flatMap((t) => (t.reservationId ? [t.reservationId] : [])) ?? []),
    ]);
    if (rows.length > 1) i2.add(`${u} holds ${rows.length} rows`);
    else if (ids.size > 1)
      i2.add(`${u} was named by ${ids.size} reservation ids: ${[...ids].join(', ')}`);
  }

  // I3 no lost acceptance: every 202 ends confirmed or rejected.
  const i3 = new Finding();
  // I5 truth told: told confirmed → a row; told rejected → no row.
  const i5 = new Finding();
  let accepted = 0;
  let confirmed = 0;
  let rejected = 0;
  let attempts = 0;
  const demand = new Set(rowsByUser.keys());
  for (const h of users) {
    attempts += h.attempts;
    const yes = claimsTicket(h);
    const no = claimsNoTicket(h);
    if (wasAccepted(h)) {
      accepted++;
      // A poll after the drain is the latest word: reading pending (or nothing) there is a loss
      // even if an earlier answer decided; without a poll, the answers must have decided.
      const undecided =
        h.final === undefined ? !yes && !no : h.final === 'pending' || h.final === 'unknown';
      if (undecided)
        i3.add(
          `${h.userId} got 202 and was never told a decision (last poll: ${h.final ?? 'none'})`,
        );
    }
    if (yes) confirmed++;
    if (no) rejected++;
    if (asked(h)) demand.add(h.userId);
    const holds = rowsByUser.has(h.userId);
    if (yes && !holds) i5.add(`${h.userId} was told confirmed (${told(h, 'yes')}) and has no row`);
    else if (no && holds)
      i5.add(`${h.userId} was told rejected (${told(h, 'no')}) and holds a row`);
  }

  // I4 no undersell: when at least capacity distinct users asked, every ticket is sold.
  const i4 = new Finding();
  const undersold = snapshot.event && demand.size >= capacity ? Math.max(0, capacity - sold) : 0;
  if (undersold)
    i4.add(`sold=${sold} of capacity=${capacity} though ${demand.size} distinct users asked`);

  // I6 Redis remaining == capacity − sold.
  const i6 = new Finding();
  const remaining = snapshot.redis?.remaining;
  const drift =
    typeof remaining === 'number' && snapshot.event ? remaining - (capacity - sold) : null;
  if (drift) i6.add(`Redis remaining=${remaining} but capacity-sold=${capacity - sold}`);

  const drained = new Finding();
  const stillPending = snapshot.queue?.pending ?? 0;
  if (stillPending)
    drained.add(`${stillPending} messages of event ${snapshot.eventId} still in the queue`);

  const checks: Record<CheckId, Check> = {
    I1: i1.check(
      snapshot.event
        ? `sold=${sold} rows=${reservations} capacity=${capacity}`
        : `event ${snapshot.eventId} missing from Postgres`,
    ),
    I2: i2.check(`${i2.count} users hold more than one ticket or reservation id`),
    I3: i3.check(`${i3.count} of ${accepted} accepted users were never told a decision`),
    I4: i4.check(`sold=${sold} of ${capacity}; ${demand.size} distinct users asked`),
    I5: i5.check(`${i5.count} users were told something untrue`),
    I6:
      snapshot.redis === null
        ? i6.check('not checked: Redis was not read', false)
        : drift === null
          ? i6.check('not checked: Redis holds no counter for the event', false)
          : i6.check(`drift=${drift}`),
    drained:
      snapshot.queue === null
        ? drained.check('not checked: the queue was not read', false)
        : drained.check(`${stillPending} messages still in the queue`),
  };
  const violations = (Object.entries(checks) as Array<[CheckId, Check]>)
    .filter(([, c]) => !c.ok)
    .map(([id, c]) => `${id} ${c.summary}${c.examples.length ? `: ${c.examples.join('; ')}` : ''}`);
  return {
    ok: violations.length === 0,
    attempts: opts.attempts ?? attempts,
    users: users.length,
    accepted,
    confirmed,
    rejected,
    capacity,
    sold,
    reservations,
    oversold,
    soldMismatch,
    duplicateHolders: i2.count,
    lostAcceptances: i3.count,
    undersold,
    untruthful: i5.count,
    drift,
    stillPending,
    checks,
    violations,
  };
}

/** The answers behind a claim, for an example line: `201, 409 already_reserved, poll confirmed`. */
function told(h: UserHistory, side: 'yes' | 'no'): string {
  const want = side === 'yes' ? ['confirmed', 'alreadyReserved'] : ['rejected'];
  const parts = h.answers
    .filter((t) => want.includes(t.outcome))
    .map((t) => (t.code ? `${t.status} ${t.code}` : String(t.status)));
  if (h.final === (side === 'yes' ? 'confirmed' : 'rejected')) parts.push(`poll ${h.final}`);
  return [...new Set(parts)].join(', ');
}

/**
 * Adds up the verdicts of several sales: counts add, drift adds in absolute value (+1 on one sale
 * and −1 on another is not agreement), and each violation and example names its sale.
 */
export function combine(verdicts: Verdict[]): Verdict {
  const sum = (f: (v: Verdict) => number) => verdicts.reduce((a, v) => a + f(v), 0);
  const ids: CheckId[] = ['I1', 'I2', 'I3', 'I4', 'I5', 'I6', 'drained'];
  const checks = Object.fromEntries(
    ids.map((id) => {
      const all = verdicts.map((v) => v.checks[id]);
      const check: Check = {
        ok: all.every((c) => c.ok),
        checked: all.every((c) => c.checked),
        count: all.reduce((a, c) => a + c.count, 0),
        summary: all
          .map((c, i) => ({ c, i }))
          .filter(({ c }) => !c.ok)
          .map(({ c, i }) => `sale ${i + 1}: ${c.summary}`)
          .join('; '),
        examples: all
          .flatMap((c, i) => c.examples.map((e) => `sale ${i + 1}: ${e}`))
          .slice(0, EXAMPLES),
      };
      return [id, check];
    }),
  ) as Record<CheckId, Check>;
  const drifts = verdicts.map((v) => v.drift);
  return {
    ok: verdicts.every((v) => v.ok),
    attempts: sum((v) => v.attempts),
    users: sum((v) => v.users),
    accepted: sum((v) => v.accepted),
    confirmed: sum((v) => v.confirmed),
    rejected: sum((v) => v.rejected),
    capacity: sum((v) => v.capacity),
    sold: sum((v) => v.sold),
    reservations: sum((v) => v.reservations),
    oversold: sum((v) => v.oversold),
    soldMismatch: sum((v) => Math.abs(v.soldMismatch)),
    duplicateHolders: sum((v) => v.duplicateHolders),
    lostAcceptances: sum((v) => v.lostAcceptances),
    undersold: sum((v) => v.undersold),
    untruthful: sum((v) => v.untruthful),
    drift: drifts.some((d) => d === null)
      ? null
      : drifts.reduce<number>((a, d) => a + Math.abs(d ?? 0), 0),
    stillPending: sum((v) => v.stillPending),
    checks,
    violations: verdicts.flatMap((v, i) => v.violations.map((x) => `sale ${i + 1}: ${x}`)),
  };
}
