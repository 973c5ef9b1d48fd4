// The hot route answers exactly as the Express route does: the same inputs sent with a
// Content-Length (the hot route takes them) and chunked (Express takes them) get the same status,
// headers and problem, from a real service on real Postgres, Redis and NATS.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestEnv } from './support/env.js';
import { createEvent } from './support/events.js';

let t: TestEnv;
let base: URL;
let eventId: string;

beforeAll(async () => {
  t = await TestEnv.create();
  const svc = await t.start();
  base = new URL(svc.url);
  eventId = (await createEvent(svc.url, { capacity: 100 })).id;
});
afterAll(async () => {
  await t?.cleanup();
});

interface Answer {
  status: number;
  type: string | undefined;
  location: string | undefined;
  body: Record<string, unknown>;
}

function post(path: string, body: string, chunked: boolean): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(chunked
            ? { 'transfer-encoding': 'chunked' }
            : { 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'],
            location: res.headers.location,
            body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The answer without what differs per request (its id). */
const comparable = (a: Answer) => {
  const body = { ...a.body };
  delete body.requestId;
  return { ...a, body };
};

describe('the hot route and the Express route', () => {
  it('when a user reserves, then both accept with 202, a Location and the same fields', async () => {
    const hot = await post(`/v1/events/${eventId}/reservations`, '{"userId":"hot-a"}', false);
    const exp = await post(`/v1/events/${eventId}/reservations`, '{"userId":"exp-a"}', true);
    expect([hot.status, exp.status]).toEqual([202, 202]);
    expect(hot.type).toBe(exp.type);
    expect(hot.location).toBe(`/v1/reservations/${String(hot.body.reservationId)}`);
    expect(Object.keys(hot.body).sort()).toEqual(Object.keys(exp.body).sort());
  });

  const cases: Array<[string, string, string]> = [
    ['a repeated key', `/v1/events/{e}/reservations`, '{"userId":"a","userId":"b"}'],
    ['broken JSON', `/v1/events/{e}/reservations`, '{"userId":'],
    ['a JSON string', `/v1/events/{e}/reservations`, '"userId"'],
    ['only spaces', `/v1/events/{e}/reservations`, '   '],
    ['an empty body', `/v1/events/{e}/reservations`, ''],
    ['an array', `/v1/events/{e}/reservations`, '[1]'],
    ['an unknown key', `/v1/events/{e}/reservations`, '{"userId":"u1","seat":3}'],
    ['a bad user id', `/v1/events/{e}/reservations`, '{"userId":"no spaces"}'],
    ['a bad wait', `/v1/events/{e}/reservations?wait=soon`, '{"userId":"u2"}'],
    ['an unknown query key', `/v1/events/{e}/reservations?x=1`, '{"userId":"u3"}'],
    ['a malformed event id', `/v1/events/not-a-uuid/reservations`, '{"userId":"u4"}'],
    ['an unknown event', `/v1/events/${randomUUID()}/reservations`, '{"userId":"u5"}'],
  ];
  it.each(cases)(
    'when the request has %s, then both answer the same problem',
    async (_what, p, body) => {
      const path = p.replace('{e}', eventId);
      const hot = comparable(await post(path, body, false));
      const exp = comparable(await post(path, body, true));
      expect(hot.status).toBeGreaterThanOrEqual(400);
      expect(hot).toEqual(exp);
    },
  );
});
