// The snapshot reader against the test bed's real Postgres and Redis: it reads what is there, and
// the verdict on what it read catches the violations planted in the stores themselves.
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fromAudit,
  judge,
  openStores,
  readSnapshot,
  recordAnswer,
  type Stores,
  type UserHistory,
} from '../src/index.js';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the test bed's global setup did not run`);
  return v;
}

const adminUrl = () => env('TESTBED_POSTGRES_URL');
const dbName = `inv_${randomBytes(6).toString('hex')}`;
const prefix = `inv${randomBytes(4).toString('hex')}:`;
let dbUrl: string;
let db: pg.Client;
let redis: Redis;
let stores: Stores;

/**
 * An event with `capacity` tickets, one row per holder (duplicates allowed) on the seats given
 * (1, 2, 3, ... unless told; a seat may be planted twice), Redis as given.
 */
async function sale(
  capacity: number,
  holders: string[],
  redisState: { remaining?: number; holders?: string[] } = {},
  seats = holders.map((_, i) => i + 1),
): Promise<string> {
  const id = randomUUID();
  await db.query('insert into events (id, capacity) values ($1, $2)', [id, capacity]);
  for (const [i, u] of holders.entries())
    await db.query(
      'insert into reservations (id, event_id, user_id, seat) values ($1, $2, $3, $4)',
      [randomUUID(), id, u, seats[i]],
    );
  if (redisState.remaining !== undefined)
    await redis.set(`${prefix}{evt:${id}}:remaining`, String(redisState.remaining));
  for (const u of redisState.holders ?? [])
    await redis.hset(`${prefix}{evt:${id}}:holders`, u, String(Date.now()));
  return id;
}

function confirmed(userId: string): UserHistory {
  const h: UserHistory = { userId, attempts: 0, answers: [] };
  recordAnswer(h, 201, { status: 'confirmed' });
  return h;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const u = new URL(adminUrl());
  u.pathname = `/${dbName}`;
  dbUrl = u.toString();
  db = new pg.Client({ connectionString: dbUrl });
  await db.connect();
  // The columns of the service's schema the reader uses, without the constraints that would stop
  // an oversold or duplicated state from being planted.
  await db.query('create table events (id uuid primary key, capacity int not null)');
  await db.query(
    `create table reservations (id uuid primary key, event_id uuid not null, user_id text not null,
                                seat int not null)`,
  );
  // The classic design's columns (a sold counter), in a schema of their own.
  await db.query('create schema classic');
  await db.query(
    'create table classic.events (id uuid primary key, capacity int not null, sold int not null)',
  );
  await db.query(
    `create table classic.reservations (id uuid primary key, event_id uuid not null,
                                        user_id text not null)`,
  );
  redis = new Redis(env('TESTBED_REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 3 });
  await redis.connect();
  stores = await openStores({ databaseUrl: dbUrl, redisUrl: env('TESTBED_REDIS_URL') });
});

afterAll(async () => {
  await stores?.close();
  const keys = (await redis?.keys(`${prefix}*`)) ?? [];
  if (keys.length) await redis.del(...keys);
  redis?.disconnect();
  await db?.end();
  const admin = new pg.Client({ connectionString: adminUrl() });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.end();
});

const read = (eventId: string, pendingInQueue: number | null = 0) =>
  readSnapshot({
    sql: stores.sql,
    ...(stores.redis ? { redis: stores.redis } : {}),
    redisKeyPrefix: prefix,
    eventId,
    pendingInQueue,
  });

describe('the snapshot reader', () => {
  it('when a sale is clean, then it reads the event, its rows and Redis, and the verdict passes', async () => {
    const eventId = await sale(3, ['b', 'a'], { remaining: 1, holders: ['a', 'b'] });
    const s = await read(eventId);
    expect(s).toMatchObject({
      eventId,
      event: { capacity: 3, sold: 2 },
      redis: { remaining: 1, holders: ['a', 'b'] },
      queue: { pending: 0 },
    });
    expect(s.rows.map((r) => r.userId)).toEqual(['a', 'b']);
    for (const r of s.rows) expect(r.reservationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(judge([confirmed('a'), confirmed('b')], s).violations).toEqual([]);
  });

  it('when the stores hold an oversold sale, then the verdict on what it read says I1', async () => {
    // Two rows on one seat: sold reads 1, the rows say 2.
    const eventId = await sale(1, ['a', 'b'], { remaining: 0 }, [1, 1]);
    const v = judge([confirmed('a'), confirmed('b')], await read(eventId));
    expect(v.oversold).toBe(1);
    expect(v.soldMismatch).toBe(1);
    expect(v.checks.I1.ok).toBe(false);
  });

  it('when a user holds two rows, then I2 names them', async () => {
    const eventId = await sale(3, ['a', 'a'], { remaining: 1 });
    const v = judge([confirmed('a')], await read(eventId));
    expect(v.duplicateHolders).toBe(1);
    expect(v.checks.I2.examples).toEqual(['a holds 2 rows']);
  });

  it('when Redis disagrees or lost its counter, then I6 fails', async () => {
    const drifted = await sale(5, ['a'], { remaining: 3 });
    expect(judge([confirmed('a')], await read(drifted)).drift).toBe(-1);
    const wiped = await sale(5, ['a']);
    const s = await read(wiped);
    expect(s.redis).toEqual({ remaining: null, holders: [] });
    expect(judge([confirmed('a')], s).checks.I6).toMatchObject({ ok: false, checked: false });
  });

  it('when the design keeps a sold counter (soldFrom: column), then sold is read from it', async () => {
    const id = randomUUID();
    await db.query('insert into classic.events (id, capacity, sold) values ($1, 3, 1)', [id]);
    for (const u of ['a', 'b'])
      await db.query(
        'insert into classic.reservations (id, event_id, user_id) values ($1, $2, $3)',
        [randomUUID(), id, u],
      );
    const classic = new pg.Client({ connectionString: dbUrl, options: '-c search_path=classic' });
    await classic.connect();
    try {
      const s = await readSnapshot({ sql: classic, eventId: id, soldFrom: 'column' });
      expect(s.event).toEqual({ capacity: 3, sold: 1 });
      expect(judge([confirmed('a'), confirmed('b')], s).soldMismatch).toBe(1);
    } finally {
      await classic.end();
    }
  });

  it('when the event does not exist, then the snapshot says so and I1 fails', async () => {
    const s = await read(randomUUID(), null);
    expect(s).toMatchObject({ event: null, rows: [], queue: null });
    expect(judge([], s).checks.I1.ok).toBe(false);
  });

  it('takes the Redis and queue parts from an audit answer when only the audit is reachable', () => {
    expect(fromAudit({ remainingRedis: 4, pendingInQueue: 0 })).toEqual({
      redis: { remaining: 4 },
      queue: { pending: 0 },
    });
    expect(fromAudit({ remainingRedis: null })).toEqual({
      redis: { remaining: null },
      queue: null,
    });
    expect(fromAudit({})).toEqual({ redis: null, queue: null });
  });
});
