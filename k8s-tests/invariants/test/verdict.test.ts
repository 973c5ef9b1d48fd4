// The verdict must be able to fail: each violation planted in a history or a snapshot is caught,
// counted and named by an example, and a clean sale passes.
import { describe, expect, it } from 'vitest';
import {
  classify,
  combine,
  judge,
  recordAnswer,
  recordError,
  recordFinal,
  type Snapshot,
  type UserHistory,
} from '../src/index.js';

const EVENT = '11111111-1111-4111-8111-111111111111';
const rid = (u: string) => `r-${u}`;

type Said = 202 | 201 | 'sold_out' | 'already_reserved' | 'not_open' | 503 | 0;

/** A user's history from the answers they got, in order, and the last poll's reading. */
function user(
  userId: string,
  said: Said[],
  final?: 'pending' | 'confirmed' | 'rejected',
): UserHistory {
  const h: UserHistory = { userId, attempts: 0, answers: [] };
  for (const s of said) {
    if (s === 0) recordError(h);
    else if (s === 202) recordAnswer(h, 202, { status: 'pending', reservationId: rid(userId) });
    else if (s === 201) recordAnswer(h, 201, { status: 'confirmed', reservationId: rid(userId) });
    else if (s === 503) recordAnswer(h, 503, { code: 'unavailable' });
    else if (s === 'not_open') recordAnswer(h, 409, { code: 'sale_not_open' });
    else recordAnswer(h, 409, { code: s, reservationId: rid(userId) });
  }
  if (final) recordFinal(h, 200, { status: final });
  return h;
}

/** A drained sale whose rows are `holders` and whose Redis agrees, unless told otherwise. */
function snapshot(capacity: number, holders: string[], over: Partial<Snapshot> = {}): Snapshot {
  const sold = over.event?.sold ?? holders.length;
  return {
    eventId: EVENT,
    event: { capacity, sold },
    rows: holders.map((u) => ({ userId: u, reservationId: rid(u) })),
    redis: { remaining: capacity - sold, holders },
    queue: { pending: 0 },
    ...over,
  };
}

/** A clean sale of 2 tickets: a and b win (one waited, one polled), c is rejected, d came early. */
const clean = () => [
  user('a', [202, 'already_reserved'], 'confirmed'),
  user('b', [201]),
  user('c', [202, 'sold_out'], 'rejected'),
  user('d', ['not_open', 503, 0]),
];

describe('the verdict on a clean sale', () => {
  it('when every invariant holds, then there is no violation and the figures add up', () => {
    const v = judge(clean(), snapshot(2, ['a', 'b']));
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({
      ok: true,
      attempts: 8,
      users: 4,
      accepted: 2,
      confirmed: 2,
      rejected: 1,
      capacity: 2,
      sold: 2,
      reservations: 2,
      oversold: 0,
      soldMismatch: 0,
      duplicateHolders: 0,
      lostAcceptances: 0,
      undersold: 0,
      untruthful: 0,
      drift: 0,
      stillPending: 0,
    });
    for (const c of Object.values(v.checks)) expect(c).toMatchObject({ ok: true, checked: true });
  });

  it('when fewer users asked than there are tickets, then tickets left unsold are no undersell', () => {
    const v = judge([user('a', [201])], snapshot(5, ['a']));
    expect(v.ok).toBe(true);
    expect(v.undersold).toBe(0);
  });
});

describe('each planted violation is caught with an example', () => {
  it('I1: more tickets sold than exist', () => {
    const v = judge(clean(), snapshot(1, ['a', 'b'], { event: { capacity: 1, sold: 2 } }));
    expect(v.oversold).toBe(1);
    expect(v.checks.I1).toMatchObject({ ok: false, count: 1 });
    expect(v.checks.I1.examples[0]).toMatch(/sold=2 rows=2 capacity=1/);
    expect(v.violations.join('\n')).toMatch(/^I1 /m);
  });

  it('I1: rows that `sold` does not count', () => {
    const v = judge(clean(), snapshot(2, ['a', 'b'], { event: { capacity: 2, sold: 1 } }));
    expect(v.soldMismatch).toBe(1);
    expect(v.checks.I1.ok).toBe(false);
    expect(v.checks.I1.examples.join()).toMatch(/rows=2 but sold=1/);
  });

  it('I1: the event row is missing', () => {
    const v = judge(clean(), { ...snapshot(2, []), event: null });
    expect(v.checks.I1.ok).toBe(false);
    expect(v.checks.I1.examples[0]).toMatch(/no row in Postgres/);
  });

  it('I2: a user holds two rows', () => {
    const s = snapshot(3, ['a', 'b']);
    s.rows.push({ userId: 'a', reservationId: 'r-a-again' });
    s.event = { capacity: 3, sold: 3 };
    s.redis = { remaining: 0 };
    const v = judge(clean(), s);
    expect(v.duplicateHolders).toBe(1);
    expect(v.checks.I2.examples).toEqual(['a holds 2 rows']);
  });

  it('I2: a user was named by two reservation ids', () => {
    const h = clean();
    recordAnswer(h[2]!, 409, { code: 'sold_out', reservationId: 'r-other' });
    const v = judge(h, snapshot(2, ['a', 'b']));
    expect(v.duplicateHolders).toBe(1);
    expect(v.checks.I2.examples[0]).toMatch(/^c was named by 2 reservation ids/);
  });

  it('I3: an accepted request was never decided', () => {
    const v = judge([...clean(), user('e', [202])], snapshot(3, ['a', 'b']));
    expect(v.lostAcceptances).toBe(1);
    expect(v.checks.I3.examples[0]).toMatch(/^e got 202 .*last poll: none/);
    expect(v.violations.join('\n')).toMatch(/^I3 /m);
  });

  it('I3: the last poll still reads pending although an earlier answer decided', () => {
    const v = judge([user('a', [202, 201], 'pending')], snapshot(1, ['a']));
    expect(v.lostAcceptances).toBe(1);
    expect(v.checks.I3.examples[0]).toMatch(/^a .*last poll: pending/);
  });

  it('I4: enough users asked but a ticket is left', () => {
    const v = judge(clean(), snapshot(3, ['a', 'b']));
    expect(v.undersold).toBe(1);
    expect(v.checks.I4.ok).toBe(false);
    expect(v.checks.I4.examples[0]).toMatch(/sold=2 of capacity=3 though 3 distinct users asked/);
  });

  it('I5: a user told confirmed has no row', () => {
    const v = judge(clean(), snapshot(2, ['a', 'z']));
    expect(v.untruthful).toBe(1);
    expect(v.checks.I5.examples).toEqual(['b was told confirmed (201) and has no row']);
  });

  it('I5: a user told already_reserved has no row', () => {
    const v = judge(clean(), snapshot(2, ['b', 'z']));
    expect(v.untruthful).toBe(1);
    expect(v.checks.I5.examples[0]).toMatch(
      /^a was told confirmed \(409 already_reserved, poll confirmed\)/,
    );
  });

  it('I5: a user told rejected holds a row', () => {
    const v = judge(clean(), snapshot(3, ['a', 'b', 'c']));
    expect(v.untruthful).toBe(1);
    expect(v.checks.I5.examples).toEqual([
      'c was told rejected (409 sold_out, poll rejected) and holds a row',
    ]);
  });

  it('I6: Redis remaining disagrees with Postgres', () => {
    const v = judge(clean(), snapshot(2, ['a', 'b'], { redis: { remaining: 1 } }));
    expect(v.drift).toBe(1);
    expect(v.checks.I6.examples[0]).toMatch(/Redis remaining=1 but capacity-sold=0/);
  });

  it('I6: Redis was not read, or holds no counter: not checked is a failure', () => {
    for (const redis of [null, { remaining: null }]) {
      const v = judge(clean(), snapshot(2, ['a', 'b'], { redis }));
      expect(v.drift).toBeNull();
      expect(v.checks.I6).toMatchObject({ ok: false, checked: false });
      expect(v.violations.join()).toMatch(/I6 not checked/);
    }
  });

  it('drained: messages are still in the queue, or the queue was not read', () => {
    const v = judge(clean(), snapshot(2, ['a', 'b'], { queue: { pending: 3 } }));
    expect(v.stillPending).toBe(3);
    expect(v.checks.drained.examples[0]).toMatch(/3 messages .* still in the queue/);
    const unread = judge(clean(), snapshot(2, ['a', 'b'], { queue: null }));
    expect(unread.checks.drained).toMatchObject({ ok: false, checked: false });
  });

  it('keeps at most five examples however many users are at fault', () => {
    const users = Array.from({ length: 12 }, (_, i) => user(`u${i}`, [201]));
    const v = judge(users, snapshot(20, []));
    expect(v.untruthful).toBe(12);
    expect(v.checks.I5.examples).toHaveLength(5);
  });
});

describe('several sales added up', () => {
  it('counts add, drift adds in absolute value, and violations name their sale', () => {
    const good = judge(clean(), snapshot(2, ['a', 'b']));
    const up = judge(clean(), snapshot(2, ['a', 'b'], { redis: { remaining: 1 } }));
    const down = judge(clean(), snapshot(3, ['a', 'b'], { redis: { remaining: 0 } }));
    const v = combine([good, up, down]);
    expect(v).toMatchObject({
      ok: false,
      attempts: 24,
      capacity: 7,
      sold: 6,
      drift: 2,
      undersold: 1,
    });
    expect(v.violations.filter((x) => x.startsWith('sale 2: I6'))).toHaveLength(1);
    expect(v.violations.filter((x) => x.startsWith('sale 3: I6'))).toHaveLength(1);
    expect(v.checks.I6.examples[0]).toMatch(/^sale 2: /);
    expect(combine([good, good]).ok).toBe(true);
  });
});

describe('what an answer says about the ticket', () => {
  it.each([
    [202, { status: 'pending', reservationId: 'r' }, 'accepted'],
    [201, { status: 'confirmed' }, 'confirmed'],
    [200, { status: 'confirmed' }, 'confirmed'],
    [200, { status: 'pending' }, 'accepted'],
    [200, { status: 'rejected' }, 'rejected'],
    [409, { code: 'sold_out' }, 'rejected'],
    [409, { code: 'already_reserved' }, 'alreadyReserved'],
    [409, { code: 'sale_not_open' }, 'notOpen'],
    [409, { code: 'sale_closed' }, 'closed'],
    [503, { code: 'unavailable' }, 'unavailable'],
    [429, { code: 'rate_limited' }, 'rateLimited'],
    [0, {}, 'error'],
    [500, {}, 'unexpected'],
  ] as const)('an answer %i %j is %s', (status, body, outcome) => {
    expect(classify(status, body)).toBe(outcome);
  });
});
