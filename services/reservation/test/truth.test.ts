// The correctness traps, each forced deterministically: Redis may be wrong or empty, a worker may
// crash between its Redis decision and its commit, another pod may sell the last seat — and still
// nobody is told anything untrue, nothing is oversold and nothing is undersold.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRedis, RedisAdmission } from '../src/adapters/redis.js';
import { reservationId } from '../src/domain/ids.js';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { http } from './support/http.js';
import { createEvent, drained } from './support/events.js';

let t: TestEnv;
const fast = { NAK_DELAY_MS: 200, RECONCILE_INTERVAL_MS: 300 };

beforeEach(async () => {
  t = await TestEnv.create();
});
afterEach(async () => {
  await t?.cleanup();
});

const remainingKey = (id: string) => `${t.redisPrefix}{evt:${id}}:remaining`;
const holdersKey = (id: string) => `${t.redisPrefix}{evt:${id}}:holders`;
const status = async (base: string, eventId: string, userId: string) =>
  (await http<{ status: string }>(`${base}/v1/reservations/${reservationId(eventId, userId)}`)).body
    .status;

describe('the truth told', () => {
  it('when Redis wrongly says sold out, then an accepted user is not told sold_out, a new user is queued, and both get seats', async () => {
    const api = await t.start({ ROLE: 'api', ...fast });
    const e = await createEvent(api.url, { capacity: 3 });
    const url = `${api.url}/v1/events/${e.id}/reservations`;
    expect((await http(url, { body: { userId: 'alice' } })).status).toBe(202);
    await t.redis.set(remainingKey(e.id), '0');

    const again = await http(url, { body: { userId: 'alice' } });
    expect([again.status, again.body.reservationId]).toEqual([202, reservationId(e.id, 'alice')]);
    const bob = await http(url, { body: { userId: 'bob' } });
    expect(bob.status).toBe(202);
    expect(await status(api.url, e.id, 'alice')).toBe('pending');

    // The worker's Redis says sold out too; Postgres has seats, so nobody is rejected.
    await t.start({ ROLE: 'worker', ...fast });
    await expect.poll(() => status(api.url, e.id, 'alice'), { timeout: 30_000 }).toBe('confirmed');
    await expect.poll(() => status(api.url, e.id, 'bob'), { timeout: 30_000 }).toBe('confirmed');
    expect(await drained(api.url, e.id)).toMatchObject({ sold: 2, remainingRedis: 1, drift: 0 });
  });

  it('when the event is sold out in Postgres, then a pending user reads rejected, and a holder reads confirmed', async () => {
    const api = await t.start({ ROLE: 'api', ...fast });
    const e = await createEvent(api.url, { capacity: 1 });
    expect(
      (await http(`${api.url}/v1/events/${e.id}/reservations`, { body: { userId: 'late' } }))
        .status,
    ).toBe(202);
    // Another pod sold the last seat (straight into Postgres).
    await t.pg.query(`insert into reservations (id, event_id, user_id) values ($1, $2, 'zed')`, [
      reservationId(e.id, 'zed'),
      e.id,
    ]);
    expect(await status(api.url, e.id, 'late')).toBe('rejected');
    const zed = await http(`${api.url}/v1/events/${e.id}/reservations`, {
      body: { userId: 'zed' },
    });
    expect([zed.status, zed.body.code]).toEqual([409, 'already_reserved']);
    await t.start({ ROLE: 'worker', ...fast });
    const a = await drained(api.url, e.id);
    expect(a).toMatchObject({ sold: 1, reservations: 1, oversold: false });
    expect(await status(api.url, e.id, 'late')).toBe('rejected');
  });
});

describe('Redis is a filter, Postgres decides', () => {
  it('when a worker crashed after its Redis decision and before its commit, then the redelivery commits the same holder once', async () => {
    const api = await t.start({ ROLE: 'api', ...fast });
    const e = await createEvent(api.url, { capacity: 2 });
    // The crashed worker's Redis decision: alice holds a seat in Redis, no row in Postgres.
    const redis = createRedis(t.servers.redis, t.redisPrefix);
    await redis.connect();
    const admission = new RedisAdmission(redis, 60);
    expect(await admission.admit(e.id, ['alice'], [], Date.now())).toEqual(['won']);
    redis.disconnect();
    expect(
      (await http(`${api.url}/v1/events/${e.id}/reservations`, { body: { userId: 'alice' } }))
        .status,
    ).toBe(202);
    await t.start({ ROLE: 'worker', ...fast });
    await expect.poll(() => status(api.url, e.id, 'alice'), { timeout: 30_000 }).toBe('confirmed');
    expect(await drained(api.url, e.id)).toMatchObject({ sold: 1, remainingRedis: 1, drift: 0 });
    for (const u of ['bob', 'carol'])
      await http(`${api.url}/v1/events/${e.id}/reservations?wait=20000`, { body: { userId: u } });
    expect(await drained(api.url, e.id)).toMatchObject({ sold: 2, remainingRedis: 0, drift: 0 });
  });

  it('when Redis lost its keys and a holder is redelivered, then it is confirmed without taking a second seat', async () => {
    const svc = await t.start(fast);
    const e = await createEvent(svc.url, { capacity: 5 });
    const url = `${svc.url}/v1/events/${e.id}/reservations`;
    expect((await http(url + '?wait=20000', { body: { userId: 'alice' } })).status).toBe(201);
    await t.redis.del(remainingKey(e.id), holdersKey(e.id));
    // The same request again, as a redelivery after a crash between commit and ack would bring it
    // (a new message id, so the broker does not drop it as a duplicate).
    const { connect } = await import('@nats-io/transport-node');
    const { jetstream } = await import('@nats-io/jetstream');
    const nc = await connect({ servers: t.servers.nats });
    await jetstream(nc).publish(
      `${t.subjectPrefix}.reservations.${e.id}`,
      JSON.stringify({
        v: 1,
        reservationId: reservationId(e.id, 'alice'),
        eventId: e.id,
        userId: 'alice',
        acceptedAt: Date.now(),
      }),
      { msgID: `redelivery-${e.id}` },
    );
    await nc.close();
    expect((await http(url + '?wait=20000', { body: { userId: 'bob' } })).status).toBe(201);
    expect(await drained(svc.url, e.id)).toMatchObject({
      sold: 2,
      reservations: 2,
      remainingRedis: 3,
      drift: 0,
    });
  });

  it('when Redis counters drift either way, then the reconciler puts them back and reports it', async () => {
    const svc = await t.start(fast);
    const e = await createEvent(svc.url, { capacity: 10 });
    const url = `${svc.url}/v1/events/${e.id}/reservations?wait=20000`;
    for (const u of ['a', 'b', 'c'])
      expect((await http(url, { body: { userId: u } })).status).toBe(201);
    for (const wrong of ['0', '10']) {
      await t.redis.set(remainingKey(e.id), wrong);
      expect(await drained(svc.url, e.id)).toMatchObject({ sold: 3, remainingRedis: 7, drift: 0 });
    }
    const m = await http<string>(`${svc.url}/metrics`);
    expect(m.body).toMatch(new RegExp(`flashsale_redis_drift\\{event_id="${e.id}"\\} 0`));
  });

  it('when a Redis holder never reaches Postgres, then it is released after the grace period and its seat is sold (no undersell)', async () => {
    const svc = await t.start({ ...fast, RECONCILE_GRACE_MS: 1000 });
    const e = await createEvent(svc.url, { capacity: 2 });
    const redis = createRedis(t.servers.redis, t.redisPrefix);
    await redis.connect();
    expect(await new RedisAdmission(redis, 60).admit(e.id, ['ghost'], [], Date.now())).toEqual([
      'won',
    ]);
    redis.disconnect();
    const url = `${svc.url}/v1/events/${e.id}/reservations`;
    for (const u of ['alice', 'bob'])
      expect((await http(url, { body: { userId: u } })).status).toBe(202);
    await expect.poll(() => status(svc.url, e.id, 'alice'), { timeout: 30_000 }).toBe('confirmed');
    await expect.poll(() => status(svc.url, e.id, 'bob'), { timeout: 30_000 }).toBe('confirmed');
    expect(await drained(svc.url, e.id)).toMatchObject({ sold: 2, remainingRedis: 0, drift: 0 });
    const carol = await http(url, { body: { userId: 'carol' } });
    expect([carol.status, carol.body.code]).toEqual([409, 'sold_out']);
  });
});

describe('audit', () => {
  it('reports an oversold or inconsistent database (the verifier can fail)', async () => {
    const svc = await t.start(fast);
    const e = await createEvent(svc.url, { capacity: 2 });
    // Break the invariant behind the service's back: a row on seat 2 with seat 1 empty.
    await t.pg.query(
      `insert into reservations (id, event_id, user_id, seat) values ($1, $2, 'rogue', 2)`,
      [reservationId(e.id, 'rogue'), e.id],
    );
    const a = await http(`${svc.url}/v1/events/${e.id}/audit`, { token: ADMIN_TOKEN });
    expect(a.body).toMatchObject({ sold: 2, reservations: 1, oversold: true });
  });
});

describe('status after Redis lost the records', () => {
  it('when Redis lost every request record, then a rejection still reads rejected and a win confirmed', async () => {
    const api = await t.start({ ROLE: 'api', ...fast });
    const e = await createEvent(api.url, { capacity: 1 });
    const other = await createEvent(api.url, { capacity: 5 });
    const url = `${api.url}/v1/events/${e.id}/reservations`;
    for (const u of ['alice', 'bob'])
      expect((await http(url, { body: { userId: u } })).status).toBe(202);
    expect(
      (await http(`${api.url}/v1/events/${other.id}/reservations`, { body: { userId: 'carl' } }))
        .status,
    ).toBe(202);
    await t.start({ ROLE: 'worker', ...fast });
    await drained(api.url, e.id);
    await drained(api.url, other.id);
    const before = [
      await status(api.url, e.id, 'alice'),
      await status(api.url, e.id, 'bob'),
    ].sort();
    expect(before).toEqual(['confirmed', 'rejected']);
    const keys = await t.redis.keys(`${t.redisPrefix}*`);
    await t.redis.del(...keys);
    // A fresh API process: nothing cached in memory either.
    const fresh = await t.start({ ROLE: 'api', ...fast });
    const after = [
      await status(fresh.url, e.id, 'alice'),
      await status(fresh.url, e.id, 'bob'),
    ].sort();
    expect(after).toEqual(['confirmed', 'rejected']);
    // carl holds a seat of the other (not sold out) event; dave of it never asked: unknown.
    expect(await status(fresh.url, other.id, 'carl')).toBe('confirmed');
    const dave = await http(`${fresh.url}/v1/reservations/${reservationId(other.id, 'dave')}`);
    expect([dave.status, dave.body.code]).toEqual([404, 'reservation_not_found']);
  });
});
