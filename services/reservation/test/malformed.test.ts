// A table of malformed requests: each is a 4xx with its stable code, and nothing is written
// (no event, no reservation, no message in the stream, no Redis record).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { http } from './support/http.js';
import { createEvent } from './support/events.js';

let t: TestEnv;
let base: string;
let eventId: string;

beforeAll(async () => {
  t = await TestEnv.create();
  base = (await t.start({ BODY_LIMIT_BYTES: 4096 })).url;
  eventId = (await createEvent(base, { capacity: 5 })).id;
});
afterAll(async () => {
  await t?.cleanup();
});

interface Case {
  name: string;
  method?: string;
  path: (eventId: string) => string;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  admin?: boolean;
  status: number;
  code: string;
}

const res = (id: string) => `/v1/events/${id}/reservations`;
const json = { 'content-type': 'application/json' };
const big = 'x'.repeat(10_000);

const cases: Case[] = [
  // POST reservations: body shape
  { name: 'no body', path: res, raw: '', headers: json, status: 400, code: 'invalid_request' },
  { name: 'empty object', path: res, body: {}, status: 400, code: 'invalid_request' },
  {
    name: 'userId a number',
    path: res,
    body: { userId: 42 },
    status: 400,
    code: 'invalid_request',
  },
  { name: 'userId null', path: res, body: { userId: null }, status: 400, code: 'invalid_request' },
  {
    name: 'userId an object',
    path: res,
    body: { userId: { $ne: 1 } },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId an array',
    path: res,
    body: { userId: ['a'] },
    status: 400,
    code: 'invalid_request',
  },
  { name: 'userId empty', path: res, body: { userId: '' }, status: 400, code: 'invalid_request' },
  {
    name: 'userId 129 chars',
    path: res,
    body: { userId: 'a'.repeat(129) },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId with space',
    path: res,
    body: { userId: 'a b' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId SQL',
    path: res,
    body: { userId: "x'; drop table reservations;--" },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId emoji',
    path: res,
    body: { userId: 'user😀' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId RTL override',
    path: res,
    body: { userId: 'abc\u202Edef' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId zero-width',
    path: res,
    body: { userId: 'ab\u200Bc' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId NUL byte',
    path: res,
    body: { userId: 'ab\u0000c' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId newline (log injection)',
    path: res,
    body: { userId: 'a\nlevel=fatal' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'userId lone surrogate',
    path: res,
    raw: '{"userId":"a\\ud800"}',
    headers: json,
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'NATS wildcard in userId',
    path: res,
    body: { userId: 'a.*.>' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'extra field',
    path: res,
    body: { userId: 'ok', quantity: 2 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: '__proto__ field',
    path: res,
    raw: '{"userId":"ok","__proto__":{"admin":true}}',
    headers: json,
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'top-level array',
    path: res,
    body: [{ userId: 'ok' }],
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'top-level string',
    path: res,
    raw: '"ok"',
    headers: json,
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'top-level null',
    path: res,
    raw: 'null',
    headers: json,
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'broken JSON',
    path: res,
    raw: '{"userId": "ok"',
    headers: json,
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'huge body',
    path: res,
    body: { userId: 'ok', pad: big },
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'text/plain body',
    path: res,
    raw: 'userId=ok',
    headers: { 'content-type': 'text/plain' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'form body',
    path: res,
    raw: 'userId=ok',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'no content type',
    path: res,
    raw: '{"userId":"ok"}',
    headers: { 'content-type': '' },
    status: 415,
    code: 'unsupported_media_type',
  },
  {
    name: 'latin1 charset',
    path: res,
    raw: '{"userId":"ok"}',
    headers: { 'content-type': 'application/json; charset=latin1' },
    status: 415,
    code: 'unsupported_media_type',
  },
  // ids and query
  {
    name: 'event id not a uuid',
    path: () => res('123'),
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event id SQL',
    path: () => res(encodeURIComponent("1' or '1'='1")),
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event id too long',
    path: (id) => res(`${id}0`),
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event id unicode',
    path: () => res(encodeURIComponent('ｅｖｅｎｔ')),
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'unknown event',
    path: () => res('6f1c1f9e-2f2e-4c55-9d2a-111111111111'),
    body: { userId: 'ok' },
    status: 404,
    code: 'event_not_found',
  },
  {
    name: 'wait negative',
    path: (id) => `${res(id)}?wait=-1`,
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'wait not a number',
    path: (id) => `${res(id)}?wait=soon`,
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'wait twice',
    path: (id) => `${res(id)}?wait=1&wait=2`,
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'unknown query parameter',
    path: (id) => `${res(id)}?quantity=2`,
    body: { userId: 'ok' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'GET event bad id',
    method: 'GET',
    path: () => '/v1/events/not-a-uuid',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'list limit 0',
    method: 'GET',
    path: () => '/v1/events?limit=0',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'list limit huge',
    method: 'GET',
    path: () => '/v1/events?limit=99999',
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'PUT reservations',
    method: 'PUT',
    path: res,
    body: { userId: 'ok' },
    status: 405,
    code: 'method_not_allowed',
  },
  // POST events (admin)
  {
    name: 'event without token',
    path: () => '/v1/events',
    body: { name: 'n', capacity: 1 },
    status: 401,
    code: 'unauthorized',
  },
  {
    name: 'event capacity 0',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: 0 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event capacity string',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: '10' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event capacity fraction',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: 1.5 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event capacity negative',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: -5 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event capacity huge',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: 1e12 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event name missing',
    admin: true,
    path: () => '/v1/events',
    body: { capacity: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event name blank',
    admin: true,
    path: () => '/v1/events',
    body: { name: '   ', capacity: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event name control chars',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'a\u0007b', capacity: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event name too long',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n'.repeat(201), capacity: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event bad date',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: 1, saleStartsAt: 'tomorrow' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event date without zone',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: 1, saleStartsAt: '2030-01-01T10:00:00' },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event ends before start',
    admin: true,
    path: () => '/v1/events',
    body: {
      name: 'n',
      capacity: 1,
      saleStartsAt: '2030-01-02T00:00:00Z',
      saleEndsAt: '2030-01-01T00:00:00Z',
    },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event extra field',
    admin: true,
    path: () => '/v1/events',
    body: { name: 'n', capacity: 1, sold: 1 },
    status: 400,
    code: 'invalid_request',
  },
  {
    name: 'event huge body',
    admin: true,
    path: () => '/v1/events',
    body: { name: big, capacity: 1 },
    status: 413,
    code: 'payload_too_large',
  },
  {
    name: 'audit bad id',
    method: 'GET',
    admin: true,
    path: () => '/v1/events/xyz/audit',
    status: 400,
    code: 'invalid_request',
  },
];

describe('malformed requests', () => {
  it(`has at least 30 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name → $status $code, nothing written', async (c) => {
    const before = {
      db: await t.counts(),
      stream: await t.streamMessages(),
      keys: await t.redis.keys(`${t.redisPrefix}res:*`),
    };
    const r = await http(`${base}${c.path(eventId)}`, {
      ...(c.method ? { method: c.method } : {}),
      ...(c.raw !== undefined ? { raw: c.raw } : {}),
      ...(c.body !== undefined ? { body: c.body } : {}),
      ...(c.headers ? { headers: c.headers } : {}),
      ...(c.admin ? { token: ADMIN_TOKEN } : {}),
    });
    expect({ status: r.status, code: r.body.code }).toEqual({ status: c.status, code: c.code });
    expect(r.contentType).toMatch(/^application\/problem\+json/);
    expect(r.body).toMatchObject({
      type: `https://flashsale.dev/problems/${c.code}`,
      status: c.status,
    });
    expect(await t.counts()).toEqual(before.db);
    expect(await t.streamMessages()).toBe(before.stream);
    expect(await t.redis.keys(`${t.redisPrefix}res:*`)).toEqual(before.keys);
  });
});
