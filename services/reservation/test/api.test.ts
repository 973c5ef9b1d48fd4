// Every endpoint, happy and sad, against a real service on real Postgres, Redis and NATS.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservationId } from '../src/domain/ids.js';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { http } from './support/http.js';
import { createEvent } from './support/events.js';

let t: TestEnv;
let base: string;

beforeAll(async () => {
  t = await TestEnv.create();
  base = (await t.start()).url;
});
afterAll(async () => {
  await t?.cleanup();
});

interface Res {
  reservationId: string;
  eventId: string;
  userId: string;
  status: string;
  reason?: string;
}

describe('events', () => {
  it('when an admin creates an event, then it is 201 with its counters and can be read and listed', async () => {
    const r = await http(`${base}/v1/events`, {
      body: { name: 'Concert', capacity: 3, saleStartsAt: null },
      token: ADMIN_TOKEN,
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: 'Concert',
      capacity: 3,
      sold: 0,
      remaining: 3,
      state: 'open',
      saleStartsAt: null,
      saleEndsAt: null,
    });
    const id = r.body.id as string;
    expect(r.headers.get('location')).toBe(`/v1/events/${id}`);
    const one = await http(`${base}/v1/events/${id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(r.body);
    const upper = await http(`${base}/v1/events/${id.toUpperCase()}`);
    expect(upper.body.id).toBe(id);
    const list = await http<{ events: Array<{ id: string }> }>(`${base}/v1/events?limit=10`);
    expect(list.status).toBe(200);
    expect(list.body.events.map((e) => e.id)).toContain(id);
  });

  it('when the token is missing or wrong, then admin calls are 401 and nothing is created', async () => {
    const before = await t.counts();
    for (const token of [undefined, 'nope']) {
      const r = await http(`${base}/v1/events`, {
        body: { name: 'x', capacity: 1 },
        ...(token ? { token } : {}),
      });
      expect(r.status).toBe(401);
      expect(r.contentType).toMatch(/application\/problem\+json/);
      expect(r.body.code).toBe('unauthorized');
    }
    const e = await createEvent(base);
    expect((await http(`${base}/v1/events/${e.id}/audit`)).body.code).toBe('unauthorized');
    expect((await t.counts()).events).toBe(before.events + 1);
  });

  it('when an event is unknown, then reading, auditing and reserving it are 404 event_not_found', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const get = await http(`${base}/v1/events/${id}`);
    expect([get.status, get.body.code]).toEqual([404, 'event_not_found']);
    const audit = await http(`${base}/v1/events/${id}/audit`, { token: ADMIN_TOKEN });
    expect([audit.status, audit.body.code]).toEqual([404, 'event_not_found']);
    const res = await http(`${base}/v1/events/${id}/reservations`, { body: { userId: 'u1' } });
    expect([res.status, res.body.code]).toEqual([404, 'event_not_found']);
    expect(await t.streamMessages()).toBe(0);
  });

  it('when the sale has not opened or is over, then reserving is 409 sale_not_open / sale_closed', async () => {
    const hour = 3600_000;
    const later = await createEvent(base, {
      saleStartsAt: new Date(Date.now() + hour).toISOString(),
    });
    const r1 = await http(`${base}/v1/events/${later.id}/reservations`, { body: { userId: 'u1' } });
    expect([r1.status, r1.body.code]).toEqual([409, 'sale_not_open']);
    expect((await http(`${base}/v1/events/${later.id}`)).body.state).toBe('scheduled');
    // A sale that is over cannot be created (400): make one that ends in a moment, and let it end.
    const endsAt = Date.now() + 1000;
    const over = await createEvent(base, {
      saleStartsAt: new Date(Date.now() - 2 * hour).toISOString(),
      saleEndsAt: new Date(endsAt).toISOString(),
    });
    await sleep(Math.max(0, endsAt - Date.now()) + 50);
    const r2 = await http(`${base}/v1/events/${over.id}/reservations`, { body: { userId: 'u1' } });
    expect([r2.status, r2.body.code]).toEqual([409, 'sale_closed']);
    expect((await http(`${base}/v1/events/${over.id}`)).body.state).toBe('closed');
  });
});

describe('reservations', () => {
  it('when a user reserves, then 202 pending with a deterministic id, and the status becomes confirmed', async () => {
    const e = await createEvent(base, { capacity: 2 });
    const r = await http<Res>(`${base}/v1/events/${e.id}/reservations`, {
      body: { userId: 'alice' },
    });
    expect(r.status).toBe(202);
    expect(r.body).toEqual({
      reservationId: reservationId(e.id, 'alice'),
      eventId: e.id,
      userId: 'alice',
      status: 'pending',
    });
    expect(r.headers.get('location')).toBe(`/v1/reservations/${r.body.reservationId}`);
    await expect
      .poll(
        async () =>
          (await http<Res>(`${base}/v1/reservations/${r.body.reservationId}`)).body.status,
        {
          timeout: 30_000,
        },
      )
      .toBe('confirmed');
    // A repeated click: never a second ticket, the same reservation.
    const again = await http(`${base}/v1/events/${e.id}/reservations`, {
      body: { userId: 'alice' },
    });
    expect([again.status, again.body.code, again.body.reservationId]).toEqual([
      409,
      'already_reserved',
      r.body.reservationId,
    ]);
    const { rows } = await t.pg.query('select * from reservations where event_id = $1', [e.id]);
    expect(rows).toHaveLength(1);
    expect((await http(`${base}/v1/events/${e.id}`)).body).toMatchObject({ sold: 1, remaining: 1 });
  });

  it('when a user clicks many times at once, then every answer names one reservation and one ticket is sold', async () => {
    const e = await createEvent(base, { capacity: 5 });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        http<Res>(`${base}/v1/events/${e.id}/reservations`, { body: { userId: 'bob' } }),
      ),
    );
    for (const a of answers) {
      expect([202, 409]).toContain(a.status);
      if (a.status === 409) expect(a.body.reservationId).toBe(reservationId(e.id, 'bob'));
      else expect(a.body.reservationId).toBe(reservationId(e.id, 'bob'));
    }
    await expect
      .poll(
        async () =>
          (await http(`${base}/v1/events/${e.id}/audit`, { token: ADMIN_TOKEN })).body
            .pendingInQueue,
        {
          timeout: 30_000,
        },
      )
      .toBe(0);
    const { rows } = await t.pg.query('select user_id from reservations where event_id = $1', [
      e.id,
    ]);
    expect(rows).toEqual([{ user_id: 'bob' }]);
  });

  it('when clients wait, then one gets 201 confirmed, the others 409 sold_out, and later users are turned away at once', async () => {
    const e = await createEvent(base, { capacity: 1 });
    const users = ['first', 'u2', 'u3', 'u4', 'u5', 'u6'];
    const answers = await Promise.all(
      users.map((u) =>
        http<Res & { code?: string; reservationStatus?: string }>(
          `${base}/v1/events/${e.id}/reservations?wait=20000`,
          { body: { userId: u } },
        ),
      ),
    );
    const won = answers.filter((a) => a.status === 201);
    expect(won).toHaveLength(1);
    expect(won[0]!.body).toMatchObject({ status: 'confirmed' });
    const lost = answers.filter((a) => a.status !== 201);
    expect(lost.map((a) => [a.status, a.body.code])).toEqual(lost.map(() => [409, 'sold_out']));
    for (const a of lost) {
      // Rejected by a worker (it was accepted first): its reservation says so.
      if (a.body.reservationId) {
        expect(a.body.reservationStatus).toBe('rejected');
        const st = await http<Res>(`${base}/v1/reservations/${a.body.reservationId}`);
        expect(st.body).toMatchObject({ status: 'rejected', reason: 'sold_out' });
      }
    }
    const winner = won[0]!.body.userId;
    // Sold out in Postgres: a new user is answered without touching the queue.
    const before = await t.streamMessages();
    const c = await http(`${base}/v1/events/${e.id}/reservations`, { body: { userId: 'third' } });
    expect([c.status, c.body.code, c.body.reservationId]).toEqual([409, 'sold_out', undefined]);
    expect(await t.streamMessages()).toBe(before);
    const again = await http(`${base}/v1/events/${e.id}/reservations`, {
      body: { userId: winner },
    });
    expect([again.status, again.body.code]).toEqual([409, 'already_reserved']);
    const st = await http<Res>(`${base}/v1/reservations/${won[0]!.body.reservationId}`);
    expect(st.body.status).toBe('confirmed');
    expect((await http(`${base}/v1/events/${e.id}`)).body).toMatchObject({
      state: 'sold_out',
      sold: 1,
      remaining: 0,
    });
  });

  it('when a reservation id is unknown or malformed, then 404 reservation_not_found / 400', async () => {
    const r = await http(`${base}/v1/reservations/00000000-0000-5000-8000-000000000000`);
    expect([r.status, r.body.code]).toEqual([404, 'reservation_not_found']);
    const bad = await http(`${base}/v1/reservations/nope`);
    expect([bad.status, bad.body.code]).toEqual([400, 'invalid_request']);
  });

  it('when the audit is asked, then it reports both stores and the queue', async () => {
    const e = await createEvent(base, { capacity: 4 });
    await http(`${base}/v1/events/${e.id}/reservations?wait=20000`, { body: { userId: 'x1' } });
    const a = await http(`${base}/v1/events/${e.id}/audit`, { token: ADMIN_TOKEN });
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      eventId: e.id,
      capacity: 4,
      sold: 1,
      reservations: 1,
      remainingRedis: 3,
      pendingInQueue: 0,
      duplicateHolders: 0,
      oversold: false,
      drift: 0,
    });
  });
});

describe('operations', () => {
  it('serves healthz, readyz, metrics and the OpenAPI document', async () => {
    expect((await http(`${base}/healthz`)).body).toEqual({ status: 'ok' });
    const ready = await http(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { postgres: true, redis: true, nats: true, consumer: true },
    });
    const m = await http<string>(`${base}/metrics`);
    expect(m.status).toBe(200);
    for (const name of [
      'flashsale_http_requests_total',
      'flashsale_http_request_duration_seconds',
      'flashsale_reservation_accept_duration_seconds',
      'flashsale_reservation_decision_latency_seconds',
      'flashsale_reservation_decisions_total',
      'flashsale_worker_batch_size',
      'flashsale_queue_backlog',
      'flashsale_dependency_up',
      'flashsale_redis_drift',
    ]) {
      expect(m.body).toContain(name);
    }
    expect(m.body).toMatch(/flashsale_reservation_decisions_total\{outcome="confirmed"\} [1-9]/);
    const doc = await http(`${base}/openapi.json`);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(r404(await http(`${base}/nothing-here`))).toBe('not_found');
    const m405 = await http(`${base}/v1/events`, { method: 'DELETE' });
    expect([m405.status, m405.body.code, m405.headers.get('allow')]).toEqual([
      405,
      'method_not_allowed',
      'GET, POST',
    ]);
    const rid = await http(`${base}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    expect(rid.headers.get('x-request-id')).toBe('abc-123');
  });

  it('when a user or an address exceeds its rate, then 429 rate_limited with Retry-After', async () => {
    const limited = await t.start({
      ROLE: 'api',
      RATE_LIMIT_USER_PER_SEC: 1,
      RATE_LIMIT_USER_BURST: 2,
      RATE_LIMIT_IP_PER_SEC: 1,
      RATE_LIMIT_IP_BURST: 6,
    });
    const e = await createEvent(base);
    const url = `${limited.url}/v1/events/${e.id}/reservations`;
    const answers: Array<string | number> = [];
    for (let i = 0; i < 2; i++) {
      const r = await http(url, { body: { userId: 'eager' } });
      answers.push(r.status === 202 ? 202 : `${r.status} ${r.body.code}`);
    }
    // Within the burst both are served: the retry is accepted again, or — when a worker of the
    // shared service decided the first in between — told the user already holds the ticket.
    expect(answers[0]).toBe(202);
    expect([202, '409 already_reserved']).toContain(answers[1]);
    const third = await http(url, { body: { userId: 'eager' } });
    expect([third.status, third.body.code]).toEqual([429, 'rate_limited']);
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The address limit: 6 per burst in all, whatever the user.
    let ip429 = 0;
    for (let i = 0; i < 5; i++)
      if ((await http(url, { body: { userId: `other${i}` } })).status === 429) ip429++;
    expect(ip429).toBeGreaterThan(0);
  });
});

const r404 = (r: { status: number; body: Record<string, unknown> }) =>
  r.status === 404 ? r.body.code : r.status;
