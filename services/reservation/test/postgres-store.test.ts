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
    const seats = await t.pg.query<{ seat: number }>(
      'select seat from reservations where event_id = $1 order by seat',
      [e],
    );
    expect(seats.rows.map((r) => r.seat)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    // Every user with a row was told confirmed at least once; nobody refused holds a row.
    const confirmed = new Set(results.flatMap((r) => r.confirmed));
    for (const r of all) expect(confirmed.has(r.user_id)).toBe(true);
    const held = new Set(all.map((r) => r.user_id));
    for (const u of results.flatMap((r) => r.refused)) expect(held.has(u)).toBe(false);
  });

  it('when batches commit, then each winner takes the next seat and the event row is never rewritten', async () => {
    const e = await event(5);
    const xmin = async () =>
      (await t.pg.query<{ xmin: string }>('select xmin from events where id = $1', [e])).rows[0]
        ?.xmin;
    const before = await xmin();
    await store.commitWinners(e, winners(e, ['a', 'b']));
    const c = await store.commitWinners(e, winners(e, ['c', 'a', 'd']));
    expect(c).toMatchObject({ refused: [], sold: 4, capacity: 5 });
    const seats = await t.pg.query<{ user_id: string; seat: number }>(
      'select user_id, seat from reservations where event_id = $1 order by seat',
      [e],
    );
    expect(seats.rows).toEqual([
      { user_id: 'a', seat: 1 },
      { user_id: 'b', seat: 2 },
      { user_id: 'c', seat: 3 },
      { user_id: 'd', seat: 4 },
    ]);
    expect(await xmin()).toBe(before);
  });

  it('when a batch repeats a user (a redelivery), then that user gets one row and is confirmed', async () => {
    const e = await event(5);
    const w = winners(e, ['a', 'b', 'a']);
    const c = await store.commitWinners(e, w);
    expect([c.confirmed, c.refused, c.sold]).toEqual([['a', 'b'], [], 2]);
    expect((await rows(e)).map((r) => r.user_id)).toEqual(['a', 'b']);
  });

  it('when anyone inserts past the capacity straight into Postgres, then the database refuses the row', async () => {
    const e = await event(1);
    // No seat named: the trigger gives the next one, under the event's lock.
    await t.pg.query(`insert into reservations (id, event_id, user_id) values ($1, $2, 'a')`, [
      reservationId(e, 'a'),
      e,
    ]);
    const past = await t.pg
      .query(`insert into reservations (id, event_id, user_id) values ($1, $2, 'b')`, [
        reservationId(e, 'b'),
        e,
      ])
      .catch((x: unknown) => x);
    expect(past).toMatchObject({ code: '23514' });
    const shared = await t.pg
      .query(`insert into reservations (id, event_id, user_id, seat) values ($1, $2, 'c', 1)`, [
        reservationId(e, 'c'),
        e,
      ])
      .catch((x: unknown) => x);
    expect(shared).toMatchObject({ code: '23505' });
    expect((await rows(e)).map((r) => r.user_id)).toEqual(['a']);
  });

  it('when the event does not exist, then it fails as a Postgres dependency error and writes nothing', async () => {
    const e = randomUUID();
    const err = await store.commitWinners(e, winners(e, ['a'])).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(DependencyError);
    expect((err as DependencyError).cause).toMatchObject({ message: `event ${e} vanished` });
    expect(await rows(e)).toEqual([]);
  });
});
