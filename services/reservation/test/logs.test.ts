// The service's own process, as Kubernetes runs it, with passwords in every URL and Redis away:
// the use cases' log lines carry the request id of the request they serve, a 503 is logged once
// with its cause chain, and no password or token reaches any line.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { http } from './support/http.js';
import { spawnService, type Child } from './support/processes.js';

let t: TestEnv;
let svc: Child;
const PG_PASSWORD = 'pg-pw-s3cret';
const REDIS_PASSWORD = 'redis-pw-s3cret';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Line {
  level: number;
  msg: string;
  requestId?: string;
  err?: { message: string; cause?: { message: string } };
}
const lines = (): Line[] =>
  svc
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);

beforeAll(async () => {
  t = await TestEnv.create();
  const db = new URL(t.databaseUrl);
  db.password = PG_PASSWORD; // the test bed's Postgres trusts loopback: any password works
  svc = await spawnService(t, {
    ROLE: 'api',
    DATABASE_URL: db.toString(),
    REDIS_URL: `redis://:${REDIS_PASSWORD}@127.0.0.1:${await closedPort()}`,
  });
});
afterAll(async () => {
  svc?.proc.kill('SIGTERM');
  await svc?.exited;
  await t?.cleanup();
});

describe('log lines', () => {
  it("when a request's use case logs, then the line carries the request id; no secret is in any line", async () => {
    const ev = await http<{ id: string }>(`${svc.url}/v1/events`, {
      body: { name: 'logs', capacity: 3 },
      token: ADMIN_TOKEN,
      headers: { 'x-request-id': 'rid-create-1' },
    });
    expect(ev.status).toBe(201);
    const r = await http(`${svc.url}/v1/events/${ev.body.id}/reservations`, {
      body: { userId: 'logger' },
      headers: { 'x-request-id': 'rid-reserve-1' },
    });
    // Redis away only costs the fast path: the broker has the request.
    expect(r.status).toBe(202);

    await expect
      .poll(() =>
        lines()
          .filter((l) => l.requestId === 'rid-reserve-1')
          .map((l) => l.msg),
      )
      .toEqual(
        expect.arrayContaining([
          'redis peek failed; accepting without the fast path',
          'could not record the accepted request',
        ]) as unknown,
      );
    const seed = lines().find((l) => l.msg === 'could not seed redis');
    expect(seed?.requestId).toBe('rid-create-1');
    // The adapter's error names Redis and keeps the driver's error as its cause.
    expect(seed?.err?.message).toMatch(/^redis: counters failed/);
    expect(seed?.err?.cause?.message).toBeTruthy();

    const out = svc.output();
    expect(out).toContain('"msg":"configuration"');
    for (const secret of [PG_PASSWORD, REDIS_PASSWORD, ADMIN_TOKEN])
      expect(out).not.toContain(secret);
  });

  it('when a dependency fails a request, then its 503 is logged once, with the cause chain', async () => {
    const before = lines().length;
    // Auditing needs Redis: 503, one line for the request.
    const ev = await http<{ id: string }>(`${svc.url}/v1/events`, {
      body: { name: 'logs-503', capacity: 1 },
      token: ADMIN_TOKEN,
    });
    const r = await http(`${svc.url}/v1/events/${ev.body.id}/audit`, {
      token: ADMIN_TOKEN,
      headers: { 'x-request-id': 'rid-audit-1' },
    });
    expect([r.status, r.body.code]).toEqual([503, 'unavailable']);
    await expect
      .poll(
        () =>
          lines()
            .slice(before)
            .filter((l) => l.requestId === 'rid-audit-1').length,
      )
      .toBe(1);
    const line = lines()
      .slice(before)
      .find((l) => l.requestId === 'rid-audit-1')!;
    expect(line).toMatchObject({ msg: 'request failed', level: 40 });
    expect(line.err?.message).toMatch(/^redis: remaining failed/);
    expect(line.err?.cause?.message).toBeTruthy();
  });
});
