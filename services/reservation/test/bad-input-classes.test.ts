// Bad input, by class: every way a request can be refused answers problem+json with a stable
// 4xx code, writes nothing, and logs no error — bodies that are not what their Content-Encoding
// says, requests Node's HTTP parser refuses before any route sees them (raw sockets), JSON with a
// repeated key, malformed paths, sales that are over on arrival; and a rejected user's repeated
// click gets their reservation id, as the README promises.
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservationId } from '../src/domain/ids.js';
import { start } from '../src/main.js';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { createEvent } from './support/events.js';
import { http } from './support/http.js';

let t: TestEnv;
let base: string;
let port: number;
let eventId: string;
const logLines: string[] = [];

beforeAll(async () => {
  t = await TestEnv.create();
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const svc = await start(t.config({ LOG_LEVEL: 'info' }), { logDestination: destination });
  t.services.push(svc);
  port = svc.port;
  base = `http://127.0.0.1:${port}`;
  eventId = (await createEvent(base, { capacity: 5 })).id;
});
afterAll(async () => {
  await t?.cleanup();
});

/** What the service holds: rows, stream messages, request records. */
async function written() {
  return {
    db: await t.counts(),
    stream: await t.streamMessages(),
    keys: (await t.redis.keys(`${t.redisPrefix}res:*`)).sort(),
  };
}

/** Error lines (level >= 50) and "request failed" lines written so far. */
const errorLines = () =>
  logLines.filter((l) => {
    const o = JSON.parse(l) as { level: number; msg: string };
    return o.level >= 50 || o.msg === 'request failed';
  });

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

/** Sends bytes on a fresh connection and reads the answer until the server closes it. */
function rawRequest(bytes: string | Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer, got: ${Buffer.concat(chunks).toString('latin1')}`));
    }, 20_000);
    socket.on('data', (d: Buffer) => chunks.push(d));
    // The server may close while we still write (a refusal mid-request): the answer is in.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      const text = Buffer.concat(chunks).toString('utf8');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...headerLines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const h of headerLines) {
        const i = h.indexOf(':');
        headers[h.slice(0, i).toLowerCase()] = h.slice(i + 1).trim();
      }
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(text.slice(split + 4)) as Record<string, unknown>;
      } catch {
        reject(new Error(`not a JSON body: ${text}`));
        return;
      }
      resolve({ status, headers, body });
    });
    socket.write(bytes);
  });
}

function expectProblem(
  r: { status: number; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect({ status: r.status, code: r.body.code }).toEqual({ status, code });
  expect(r.body).toMatchObject({
    type: `https://flashsale.dev/problems/${code}`,
    status,
    title: expect.any(String) as unknown,
    detail: expect.any(String) as unknown,
    requestId: expect.any(String) as unknown,
  });
}

const reservePath = () => `/v1/events/${eventId}/reservations`;

describe('bodies that are not what their Content-Encoding says', () => {
  const post = (body: Buffer | string, encoding: string) =>
    fetch(`${base}${reservePath()}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': encoding },
      body,
    });

  it.each([
    ['gzip', 'plain JSON', 400, 'invalid_request', Buffer.from('{"userId":"enc-1"}')],
    ['deflate', 'plain JSON', 400, 'invalid_request', Buffer.from('{"userId":"enc-2"}')],
    ['br', 'plain JSON', 400, 'invalid_request', Buffer.from('{"userId":"enc-3"}')],
    [
      'gzip',
      'cut-short gzip',
      400,
      'invalid_request',
      gzipSync('{"userId":"enc-4"}').subarray(0, 12),
    ],
    ['compress', 'anything', 415, 'unsupported_media_type', Buffer.from('{"userId":"enc-5"}')],
  ] as const)(
    'when Content-Encoding is %s and the body is %s, then %i %s, nothing written, no error logged',
    async (encoding, _what, status, code, body) => {
      const before = await written();
      const errorsBefore = errorLines().length;
      const res = await post(body, encoding);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expectProblem(
        { status: res.status, body: (await res.json()) as Record<string, unknown> },
        status,
        code,
      );
      expect(await written()).toEqual(before);
      expect(errorLines().slice(errorsBefore)).toEqual([]);
    },
  );

  it('when the body is real gzip, then it is read (the class above is about lies, not encodings)', async () => {
    const res = await post(gzipSync('{"userId":"enc-ok"}'), 'gzip');
    expect(res.status).toBe(202);
    // Let the worker decide it, so the next tests' "nothing written" compares a quiet state.
    await expect.poll(() => t.streamMessages(), { timeout: 30_000 }).toBe(0);
  });
});

describe("requests Node's HTTP parser refuses before routing", () => {
  const cases: Array<{ name: string; bytes: string; status: number; code: string }> = [
    {
      name: 'headers larger than the parser reads',
      bytes: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
      status: 431,
      code: 'headers_too_large',
    },
    {
      name: 'a URL longer than the parser reads',
      bytes: `GET /v1/events/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
      status: 414,
      code: 'uri_too_long',
    },
    {
      name: 'a broken chunked body',
      bytes: `POST ${reservePath()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{"userId":"chunk"}\r\n0\r\n\r\n`,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'both Content-Length and Transfer-Encoding',
      bytes: `POST ${reservePath()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n{"userId":"smuggle"}\r\n0\r\n\r\n`,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'two different Content-Lengths',
      bytes: `POST ${reservePath()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 18\r\nContent-Length: 19\r\n\r\n{"userId":"twice"}`,
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'an unknown method',
      bytes: 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n',
      status: 501,
      code: 'not_implemented',
    },
    {
      name: 'a control character in a header value',
      bytes: 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\u0001b\r\n\r\n',
      status: 400,
      code: 'invalid_request',
    },
    {
      name: 'not HTTP at all',
      bytes: 'hello there\r\n\r\n',
      status: 501,
      code: 'not_implemented',
    },
  ];

  it.each(cases)(
    'when it is $name, then $status $code on the raw socket, nothing written',
    async (c) => {
      const before = await written();
      const errorsBefore = errorLines().length;
      const r = await rawRequest(c.bytes);
      expect(r.headers['content-type']).toBe('application/problem+json');
      expect(r.headers.connection).toBe('close');
      expectProblem(r, c.status, c.code);
      expect(await written()).toEqual(before);
      expect(errorLines().slice(errorsBefore)).toEqual([]);
    },
  );

  it('counts the refusals in a metric', async () => {
    await rawRequest('BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(
      Number(/flashsale_http_parser_refusals_total\{status="501"\} (\d+)/.exec(text)?.[1]),
    ).toBeGreaterThan(0);
  });

  it('when a URL is longer than the routes read but the parser took it, then 414 from the app', async () => {
    const r = await rawRequest(
      `GET /v1/events/${'a'.repeat(3000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
    );
    expectProblem(r, 414, 'uri_too_long');
  });

  it('when Expect asks for something other than 100-continue, then 417 expectation_failed', async () => {
    const r = await rawRequest(
      `POST ${reservePath()} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\nExpect: 200-ok\r\n\r\n{"userId":"exp"}`,
    );
    expectProblem(r, 417, 'expectation_failed');
  });
});

describe('JSON with a repeated key', () => {
  it.each([
    ['a reservation', 'reservation', '{"userId":"dup-a","userId":"dup-b"}', false],
    [
      'a reservation, the key escaped',
      'reservation',
      '{"userId":"dup-c","user\\u0049d":"dup-d"}',
      false,
    ],
    ['an event', 'event', '{"name":"n","capacity":1,"capacity":1000}', true],
  ] as const)(
    'when %s body repeats a key, then 400 invalid_request and nothing written',
    async (_what, path, raw, admin) => {
      const before = await written();
      const r = await http(`${base}${path === 'event' ? '/v1/events' : reservePath()}`, {
        raw,
        headers: { 'content-type': 'application/json' },
        ...(admin ? { token: ADMIN_TOKEN } : {}),
      });
      expectProblem(r, 400, 'invalid_request');
      expect(r.body.detail).toMatch(/repeats the key/);
      expect(await written()).toEqual(before);
    },
  );
});

describe('paths the router cannot decode', () => {
  it.each(['/v1/events/%E0%A4%A/reservations', '/v1/reservations/%ZZ', '/v1/events/%'])(
    'when the path is %s, then a 4xx problem, not a 5xx',
    async (path) => {
      const errorsBefore = errorLines().length;
      const r = await http(`${base}${path}`, {
        method: path.endsWith('reservations') ? 'POST' : 'GET',
        ...(path.endsWith('reservations') ? { body: { userId: 'p' } } : {}),
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(r.contentType).toMatch(/^application\/problem\+json/);
      expect(errorLines().slice(errorsBefore)).toEqual([]);
    },
  );
});

describe('a sale that is over on arrival', () => {
  const hour = 3600_000;
  it.each([
    ['ended an hour ago', { saleEndsAt: new Date(Date.now() - hour).toISOString() }],
    ['ends now', { saleEndsAt: new Date().toISOString() }],
    [
      'started and ended in the past',
      {
        saleStartsAt: new Date(Date.now() - 2 * hour).toISOString(),
        saleEndsAt: new Date(Date.now() - hour).toISOString(),
      },
    ],
    [
      'ends before it starts',
      {
        saleStartsAt: new Date(Date.now() + 2 * hour).toISOString(),
        saleEndsAt: new Date(Date.now() + hour).toISOString(),
      },
    ],
  ])(
    'when the sale %s, then 400 invalid_request naming saleEndsAt, and no event',
    async (_what, window) => {
      const before = await t.counts();
      const r = await http<{ code: string; issues?: Array<{ path: string }> }>(
        `${base}/v1/events`,
        {
          body: { name: 'late', capacity: 1, ...window },
          token: ADMIN_TOKEN,
        },
      );
      expectProblem(r as unknown as RawAnswer, 400, 'invalid_request');
      expect(r.body.issues?.map((i) => i.path)).toContain('body.saleEndsAt');
      expect(await t.counts()).toEqual(before);
    },
  );
});

describe("a rejected user's repeated click", () => {
  it('when a rejected user clicks again, then 409 sold_out with their reservationId and reservationStatus rejected', async () => {
    const e = await createEvent(base, { capacity: 1 });
    const users = ['rep-1', 'rep-2', 'rep-3'];
    const first = await Promise.all(
      users.map((u) =>
        http(`${base}/v1/events/${e.id}/reservations?wait=20000`, { body: { userId: u } }),
      ),
    );
    expect(first.filter((a) => a.status === 201)).toHaveLength(1);
    const rejected = users.filter((_u, i) => first[i]!.status === 409);
    expect(rejected).toHaveLength(2);
    for (const u of rejected) {
      for (const wait of ['', '?wait=1000']) {
        const again = await http(`${base}/v1/events/${e.id}/reservations${wait}`, {
          body: { userId: u },
        });
        expect(again.status).toBe(409);
        expect(again.body).toMatchObject({
          code: 'sold_out',
          reservationId: reservationId(e.id, u),
          reservationStatus: 'rejected',
        });
      }
      const st = await http(`${base}/v1/reservations/${reservationId(e.id, u)}`);
      expect(st.body).toMatchObject({ status: 'rejected', reason: 'sold_out' });
    }
    // A user who never got in is told sold out, without an id of a reservation they never had.
    const stranger = await http(`${base}/v1/events/${e.id}/reservations`, {
      body: { userId: 'rep-new' },
    });
    expect([stranger.status, stranger.body.code, stranger.body.reservationId]).toEqual([
      409,
      'sold_out',
      undefined,
    ]);
  });
});
