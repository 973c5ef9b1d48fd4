// The reconciler's cost follows what changed, not the sale's size: on an event holding 100,000
// reservations (seeded straight into Postgres), no Redis command it sends carries more than one
// chunk of users and no Postgres query returns more than one page — asserted on what it sends,
// never on time. Drift is still found and repaired.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, PgEventStore } from '../src/adapters/postgres.js';
import { createRedis, RedisAdmission } from '../src/adapters/redis.js';
import type { Log, ReconcileReport } from '../src/domain/model.js';
import { RECONCILE_CHUNK, Reconciler } from '../src/domain/reconciler.js';
import { TestEnv } from './support/env.js';

const HOLDERS = 100_000;
const CAPACITY = 250_000;
const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

let t: TestEnv;
let redis: Redis;
let pool: pg.Pool;
let admission: RedisAdmission;
const eventId = randomUUID();

/** The widest Redis command (arguments) and Postgres result (rows) seen, and the users sent. */
const seen = { maxArgs: 0, maxRows: 0, commands: 0 };
const resetSeen = () => Object.assign(seen, { maxArgs: 0, maxRows: 0, commands: 0 });
const drifts: number[] = [];
const report: ReconcileReport = {
  drift: (_id, v) => drifts.push(v),
  forget: () => undefined,
  rebuilt: () => undefined,
  corrected: () => undefined,
};

const reconciler = (graceMs: number) =>
  new Reconciler({
    store: new PgEventStore(pool),
    admission,
    report,
    log: silent,
    intervalMs: 60_000,
    graceMs,
  });

beforeAll(async () => {
  t = await TestEnv.create();
  await t.pg.query(`insert into events (id, name, capacity) values ($1, 'big', $2)`, [
    eventId,
    CAPACITY,
  ]);
  await t.pg.query(
    `insert into reservations (id, event_id, user_id, seat)
     select gen_random_uuid(), $1, 'u' || lpad(g::text, 7, '0'), g from generate_series(1, $2) g`,
    [eventId, HOLDERS],
  );
  redis = createRedis(t.servers.redis, t.redisPrefix);
  await redis.connect();
  // Every command the adapter sends passes here (scripts included: EVALSHA/EVAL).
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = ((cmd: { args: unknown[] }, stream?: unknown) => {
    seen.commands++;
    seen.maxArgs = Math.max(seen.maxArgs, cmd.args.length);
    return send(cmd as never, stream as never);
  }) as typeof redis.sendCommand;
  pool = createPool(t.databaseUrl, 4);
  const query = pool.query.bind(pool) as (...a: unknown[]) => Promise<pg.QueryResult>;
  pool.query = (async (...a: unknown[]) => {
    const r = await query(...a);
    seen.maxRows = Math.max(seen.maxRows, r.rowCount ?? 0);
    return r;
  }) as unknown as typeof pool.query;
  admission = new RedisAdmission(redis, 60);
}, 120_000);

afterAll(async () => {
  redis?.disconnect();
  await pool?.end();
  await t?.cleanup();
});

const remaining = () => admission.remaining(eventId);

describe('reconciling an event with 100,000 holders', () => {
  it('when Redis has no counters, then it rebuilds them from Postgres one page per command', async () => {
    resetSeen();
    const r = await reconciler(60_000).reconcile(eventId);
    expect(r).toMatchObject({ rebuilt: true, released: 0, remaining: CAPACITY - HOLDERS });
    expect(await redis.hlen(`{evt:${eventId}}:holders`)).toBe(HOLDERS);
    // The spy sees the scripts: the adopt pages are full chunks, and none is larger.
    expect(seen.maxArgs).toBeGreaterThanOrEqual(RECONCILE_CHUNK);
    expect(seen.maxArgs).toBeLessThanOrEqual(RECONCILE_CHUNK + 10);
    expect(seen.maxRows).toBeLessThanOrEqual(RECONCILE_CHUNK);
  }, 120_000);

  it('when nothing changed, then a run sends a handful of small commands and no holder list', async () => {
    resetSeen();
    const r = await reconciler(60_000).reconcile(eventId);
    expect(r).toMatchObject({ rebuilt: false, added: 0, released: 0 });
    expect(seen.commands).toBeLessThanOrEqual(5);
    expect(seen.maxArgs).toBeLessThanOrEqual(10);
    expect(seen.maxRows).toBeLessThanOrEqual(1);
    expect(drifts.at(-1)).toBe(0);
  });

  it('when 50 users were admitted and 10 never got a row, then only those 50 are checked and the 10 released', async () => {
    const users = Array.from({ length: 50 }, (_, i) => `new${i}`);
    expect(await admission.admit(eventId, users, [], Date.now() - 10_000)).toEqual(
      users.map(() => 'won'),
    );
    await t.pg.query(
      `insert into reservations (id, event_id, user_id)
       select gen_random_uuid(), $1, u from unnest($2::text[]) u`,
      [eventId, users.slice(0, 40)],
    );
    resetSeen();
    const r = await reconciler(5_000).reconcile(eventId);
    expect(r).toMatchObject({ added: 0, released: 10, remaining: CAPACITY - HOLDERS - 40 });
    expect(seen.maxArgs).toBeLessThanOrEqual(60);
    expect(seen.maxRows).toBeLessThanOrEqual(50);
    expect(drifts.at(-1)).toBe(0);
  });

  it('when remaining drifted, then one O(1) run puts it back', async () => {
    await redis.set(`{evt:${eventId}}:remaining`, '0');
    resetSeen();
    await reconciler(5_000).reconcile(eventId);
    expect(await remaining()).toBe(CAPACITY - HOLDERS - 40);
    expect(seen.maxArgs).toBeLessThanOrEqual(10);
  });

  it('when Redis lost some holders, then the rows are adopted again page by page', async () => {
    await redis.hdel(`{evt:${eventId}}:holders`, 'u0000001', 'u0099999');
    resetSeen();
    const r = await reconciler(5_000).reconcile(eventId);
    expect(r).toMatchObject({ added: 2, remaining: CAPACITY - HOLDERS - 40 });
    expect(seen.maxArgs).toBeLessThanOrEqual(RECONCILE_CHUNK + 10);
  }, 120_000);

  it('when a holder is in Redis without a row and untracked, then the walk releases it in chunks', async () => {
    await redis.hset(`{evt:${eventId}}:holders`, 'stray', String(Date.now() - 60_000));
    resetSeen();
    const r = await reconciler(5_000).reconcile(eventId);
    expect(r).toMatchObject({ released: 1, remaining: CAPACITY - HOLDERS - 40 });
    expect(seen.maxArgs).toBeLessThanOrEqual(RECONCILE_CHUNK + 10);
    expect(seen.maxRows).toBeLessThanOrEqual(RECONCILE_CHUNK);
  }, 120_000);
});
