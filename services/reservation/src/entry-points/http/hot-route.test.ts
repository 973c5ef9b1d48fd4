// Which requests the hot route takes (the rest go to Express untouched), on a real Node server.
import { createServer, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../../metrics.js';
import { hotRoute } from './hot-route.js';
import { RateLimiter } from './rate-limit.js';
import { requestTracker } from './request-log.js';

const EVENT = '0b7e6f1c-3f4e-4a5b-9c8d-7e6f5a4b3c2d';
const seen: Array<{ id: unknown; query: unknown; body: unknown }> = [];
let server: Server;
let port: number;
let trustProxy = false;

beforeAll(async () => {
  const metrics = new Metrics();
  const route = async (id: unknown, query: unknown, body: unknown, res: ServerResponse) => {
    seen.push({ id, query, body });
    res.writeHead(299).end('hot');
  };
  const make = (trust: boolean) =>
    hotRoute({
      track: requestTracker(pino({ level: 'silent' }), metrics),
      ipLimiter: new RateLimiter(0, 1),
      route,
      bodyLimitBytes: 64,
      trustProxy: trust,
    });
  const plain = make(false);
  const proxied = make(true);
  server = createServer((req, res) => {
    if (!(trustProxy ? proxied : plain)(req, res)) res.writeHead(298).end('express');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Sends a raw request; the status says who answered (299 hot, 298 the rest). */
function send(
  path: string,
  body: string | null,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        headers: { 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    if (body !== null && !('transfer-encoding' in headers))
      req.setHeader('content-length', Buffer.byteLength(body));
    req.end(body ?? undefined);
  });
}

const path = `/v1/events/${EVENT}/reservations`;

describe('the hot route', () => {
  it('when a reservation comes as plain JSON with a length, then it takes it and hands over id, query and body', async () => {
    seen.length = 0;
    expect(await send(path, '{"userId":"a"}')).toBe(299);
    expect(
      await send(`${path}?wait=200`, '{"userId":"b"}', {
        'content-type': 'application/json; charset=UTF-8',
      }),
    ).toBe(299);
    expect(await send(path, '\uFEFF{"userId":"c"}')).toBe(299);
    expect(seen.map((s) => [s.id, { ...(s.query as object) }, s.body])).toEqual([
      [EVENT, {}, { userId: 'a' }],
      [EVENT, { wait: '200' }, { userId: 'b' }],
      [EVENT, {}, { userId: 'c' }],
    ]);
  });

  it('when anything about it is unusual, then it leaves the request to Express', async () => {
    expect(await send(path, '{}', {}, 'PUT')).toBe(298);
    expect(await send(path, null, {}, 'GET')).toBe(298);
    expect(await send(`${path}/`, '{}')).toBe(298);
    expect(await send(`/V1/events/${EVENT}/reservations`, '{}')).toBe(298);
    expect(await send(`/v1/events/%30${EVENT.slice(1)}/reservations`, '{}')).toBe(298);
    expect(await send(path, '{}', { 'content-type': 'text/plain' })).toBe(298);
    expect(await send(path, '{}', { 'content-type': 'application/json; charset=latin1' })).toBe(
      298,
    );
    expect(await send(path, '{}', { 'content-encoding': 'gzip' })).toBe(298);
    expect(await send(path, '{}', { 'transfer-encoding': 'chunked' })).toBe(298);
    // Over the body limit: Express answers 413.
    expect(await send(path, JSON.stringify({ userId: 'x'.repeat(100) }))).toBe(298);
    expect(await send(`${path}?${'w'.repeat(2100)}`, '{}')).toBe(298);
  });

  it("when the service trusts a proxy, then the client address is Express's to find and it takes nothing", async () => {
    trustProxy = true;
    try {
      expect(await send(path, '{"userId":"a"}')).toBe(298);
    } finally {
      trustProxy = false;
    }
  });

  it('when a body is not strict JSON, then it answers 400 itself, before the route', async () => {
    seen.length = 0;
    for (const body of ['{"userId":"a","userId":"b"}', '{"userId":', '"text"', '   '])
      expect(await send(path, body)).toBe(400);
    expect(seen).toEqual([]);
  });
});
