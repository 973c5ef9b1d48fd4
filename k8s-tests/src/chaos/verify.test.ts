// The chaos verdict must be able to fail: each invariant violation planted in a real Postgres is
// reported, and a clean sale is not.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newHistory, record, type UserHistory } from './load.js';
import { verify } from './verify.js';

const adminUrl = process.env.TESTBED_POSTGRES_URL as string;
const dbName = `verify_${randomUUID().replaceAll('-', '')}`;
const dbUrl = adminUrl.replace(/\/[^/]*$/, `/${dbName}`);
let db: pg.Client;

function history(userId: string, told: Partial<UserHistory> = {}): UserHistory {
  return { ...newHistory(userId), ...told };
}

/** An event with `capacity` tickets whose holders are `holders` (one row each, duplicates allowed). */
async function sale(capacity: number, holders: string[], sold = holders.length): Promise<string> {
  const id = randomUUID();
  // The CHECK constraint is left out so an oversold state can be planted.
  await db.query('insert into events (id, capacity, sold) values ($1, $2, $3)', [
    id,
    capacity,
    sold,
  ]);
  for (const u of holders)
    await db.query('insert into reservations (id, event_id, user_id) values ($1, $2, $3)', [
      randomUUID(),
      id,
      u,
    ]);
  return id;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  // The columns of the service's schema that the verifier reads, without the constraints.
  await db.query(
    'create table events (id uuid primary key, capacity int not null, sold int not null)',
  );
  await db.query(
    'create table reservations (id uuid primary key, event_id uuid not null, user_id text not null)',
  );
});

afterAll(async () => {
  await db.end();
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName}`);
  await admin.end();
});

describe('the chaos verdict', () => {
  const users = (...h: UserHistory[]) => new Map(h.map((x) => [x.userId, x]));
  const clean = { remainingRedis: 0, pendingInQueue: 0 };

  it('when the sale is clean, then there is no violation', async () => {
    const eventId = await sale(2, ['a', 'b']);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 3,
      users: users(
        history('a', { accepted: 1, confirmed: 1 }),
        history('b', { confirmed: 1 }),
        history('c', { rejected: 1 }),
      ),
      audit: clean,
    });
    expect(v.violations).toEqual([]);
    expect(v).toMatchObject({ sold: 2, confirmed: 2, rejected: 1, accepted: 2, redisDrift: 0 });
  });

  it('when more rows than capacity exist, then I1 is violated', async () => {
    const eventId = await sale(1, ['a', 'b'], 1);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 2,
      users: users(history('a'), history('b')),
      audit: clean,
    });
    expect(v.oversold).toBe(true);
    expect(v.violations.join()).toMatch(/I1/);
  });

  it('when a user holds two rows, then I2 is violated', async () => {
    const eventId = await sale(3, ['a', 'a']);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 1,
      users: users(history('a', { confirmed: 1 })),
      audit: { remainingRedis: 1 },
    });
    expect(v.duplicateHolders).toBe(1);
    expect(v.violations.join()).toMatch(/I2/);
  });

  it('when an accepted request was never decided, then I3 is violated', async () => {
    const eventId = await sale(2, []);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 1,
      users: users(history('a', { accepted: 1 })),
      audit: { remainingRedis: 2 },
    });
    expect(v.lostAcceptances).toBe(1);
    expect(v.violations.join()).toMatch(/I3/);
  });

  it('when enough users were accepted but tickets remain, then I4 is violated', async () => {
    const eventId = await sale(2, ['a']);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 2,
      users: users(history('a', { confirmed: 1 }), history('b', { accepted: 1, rejected: 1 })),
      audit: { remainingRedis: 1 },
    });
    expect(v.undersold).toBe(true);
    expect(v.violations.join()).toMatch(/I4/);
  });

  it('when a user told confirmed has no row, or one told rejected has one, then I5 is violated', async () => {
    const eventId = await sale(1, ['b']);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 2,
      users: users(history('a', { confirmed: 1 }), history('b', { rejected: 1 })),
      audit: clean,
    });
    expect(v.untruthful).toBe(2);
    expect(v.violations.join()).toMatch(/I5/);
  });

  it('when Redis disagrees with Postgres, then I6 is violated', async () => {
    const eventId = await sale(5, ['a']);
    const v = await verify({
      databaseUrl: dbUrl,
      eventId,
      attempts: 1,
      users: users(history('a', { confirmed: 1 })),
      audit: { remainingRedis: 3, pendingInQueue: 0 },
    });
    expect(v.redisDrift).toBe(-1);
    expect(v.violations.join()).toMatch(/I6/);
  });
});

describe('recording what a client was told', () => {
  it.each([
    [202, { status: 'pending', reservationId: 'r' }, 'accepted'],
    [201, { status: 'confirmed' }, 'confirmed'],
    [200, { status: 'confirmed' }, 'confirmed'],
    [200, { status: 'rejected' }, 'rejected'],
    [409, { code: 'sold_out' }, 'rejected'],
    [409, { code: 'already_reserved' }, 'alreadyReserved'],
    [409, { code: 'sale_not_open' }, 'notOpen'],
    [503, { code: 'unavailable' }, 'unavailable'],
    [429, { code: 'rate_limited' }, 'rateLimited'],
    [500, {}, 'unexpected'],
  ] as const)('an answer %i %j counts as %s', (status, body, field) => {
    const h = history('u');
    record(h, status, body);
    expect(h[field]).toBe(1);
  });
});
