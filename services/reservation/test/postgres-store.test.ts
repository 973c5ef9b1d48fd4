// The worker's commit on the real Postgres: the commit_winners function (one round trip) keeps the
// rules of the transaction it replaced — holders confirmed again, seats taken in order, the rest
// refused, never more sold than the capacity, even with many batches of one event at once.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgEventStore } from '../src/adapters/postgres.js';
import { reservationId } from '../src/domain/ids.js';
import { DependencyError } from '../src/errors.js';
import { TestEnv } from './support/env.js';

let t: TestEnv;
let store: PgEventStore;

beforeAll(async () => {
  t = await TestEnv.create();
  store = new PgEventStore(t.pg);
});
afterAll(async () => {
  await t?.cleanup();
});

async function event(capacity: number): Promise<string> {
  const id = randomUUID();
  await t.pg.query(`insert into events (id, name, capacity) values ($1, 'commit', $2)`, [
    id,
    capacity,
  ]);
  return id;
}
const winners = (eventId: string, users: string[]) =>
  users.map((userId) => ({ reservationId: reservationId(eventId, userId), userId }));
const rows = async (eventId: string) =>
  (
    await t.pg.query<{ user_id: string; id: string }>(
      'select user_id, id from reservations where event_id = $1 order by user_id',
      [eventId],
    )
  ).rows;

describe('PgEventStore.commitWinners', () => {
  it('when seats are left, then every winner gets a row with its reservation id and sold counts them', async () => {
    const e = await event(3);
    const c = await store.commitWinners(e, winners(e, ['a', 'b']));
    expect(c).toEqual({ confirmed: ['a', 'b'], refused: [], sold: 2, capacity: 3 });
    expect(await rows(e)).toEqual([
      { user_id: 'a', id: reservationId(e, 'a') },
      { user_id: 'b', id: reservationId(e, 'b') },
    ]);
  });

  it('when a batch holds a user who already has a row, past the last seat, then that user is confirmed again and only the newcomers past the seats are refused', async () => {
    const e = await event(3);
    await store.commitWinners(e, winners(e, ['a', 'b']));
    const c = await store.commitWinners(e, winners(e, ['c', 'a', 'd', 'e']));
    expect(c.confirmed.sort()).toEqual(['a', 'c']);
    expect(c.refused).toEqual(['d', 'e']);
    expect([c.sold, c.capacity]).toEqual([3, 3]);
    expect((await rows(e)).map((r) => r.user_id)).toEqual(['a', 'b', 'c']);
  });

  it('when the event is sold out, then a batch of newcomers is refused whole and nothing is written', async () => {
    const e = await event(1);
    await store.commitWinners(e, winners(e, ['a']));
    const c = await store.commitWinners(e, winners(e, ['x', 'y']));
    expect(c).toEqual({ confirmed: [], refused: ['x', 'y'], sold: 1, capacity: 1 });
    expect((await rows(e)).map((r) => r.user_id)).toEqual(['a']);
  });

  it('when 40 batches of one event commit at once, then exactly the capacity is sold, one row per user', async () => {
    const e = await event(25);
    const batches = Array.from({ length: 40 }, (_, b) =>
      winners(e, [`u${b % 20}`, `v${b}`, `w${b}`]),
    );
    const results = await Promise.all(batches.map((w) => store.commitWinners(e, w)));
    const all = await rows(e);
    expect(all).toHaveLength(25);
    expect(new Set(all.map((r) => r.user_id)).size).toBe(25);
    const sold = await t.pg.query<{ sold: number }>('select sold from events where id = $1', [e]);
    expect(sold.rows[0]?.sold).toBe(25);
    // Every user with a row was told confirmed at least once; nobody refused holds a row.
    const confirmed = new Set(results.flatMap((r) => r.confirmed));
    for (const r of all) expect(confirmed.has(r.user_id)).toBe(true);
    const held = new Set(all.map((r) => r.user_id));
    for (const u of results.flatMap((r) => r.refused)) expect(held.has(u)).toBe(false);
  });

  it('when the event does not exist, then it fails as a Postgres dependency error and writes nothing', async () => {
    const e = randomUUID();
    const err = await store.commitWinners(e, winners(e, ['a'])).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(DependencyError);
    expect((err as DependencyError).cause).toMatchObject({ message: `event ${e} vanished` });
    expect(await rows(e)).toEqual([]);
  });
});
