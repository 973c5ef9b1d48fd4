// The driver's own bookkeeping: the crowd's clicks, the client's retry of refused connections, the
// concurrency bound, and that every answer (or its absence) lands in the history. The reservation
// service's tests and `make chaos-local` drive the real service with it; here a plain node:http
// server stands in, because what is checked is the driver's accounting, not the service.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, crowd, historyFromAnswers, runCrowd, settle, tally } from '../src/index.js';

let server: Server;
let base: string;
let refused: string;
let inFlight = 0;
let mostInFlight = 0;

beforeAll(async () => {
  // Answers like the service: the first click of a user 202, later ones 409 sold_out; users whose
  // id ends in "x" get a non-JSON 500; status polls read rejected.
  const seen = new Set<string>();
  server = createServer((req, res) => {
    inFlight++;
    mostInFlight = Math.max(mostInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      setTimeout(() => {
        inFlight--;
        if (req.method === 'GET') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'rejected' }));
          return;
        }
        const { userId } = JSON.parse(Buffer.concat(chunks).toString()) as { userId: string };
        if (userId.endsWith('x')) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end('boom');
          return;
        }
        const first = !seen.has(userId);
        seen.add(userId);
        res.writeHead(first ? 202 : 409, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify(
            first
              ? { status: 'pending', reservationId: `r-${userId}` }
              : { code: 'sold_out', reservationId: `r-${userId}` },
          ),
        );
      }, 5);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was free a moment ago and is closed now: connecting to it is refused.
  const gone = createServer();
  await new Promise<void>((r) => gone.listen(0, '127.0.0.1', r));
  refused = `http://127.0.0.1:${(gone.address() as AddressInfo).port}`;
  await new Promise((r) => gone.close(r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('the crowd', () => {
  it('has every user at least once and `attempts` clicks; `fixed` is the same on every call', () => {
    const users = Array.from({ length: 50 }, (_, i) => `u${i}`);
    const clicks = crowd(users, 80, 'fixed');
    expect(clicks).toHaveLength(80);
    expect(new Set(clicks)).toEqual(new Set(users));
    expect(crowd(users, 80, 'fixed')).toEqual(clicks);
    expect(crowd(users, 20, 'random')).toHaveLength(50);
  });
});

describe('the driver against an HTTP server', () => {
  it('retries a refused connection on another instance, records every answer, keeps the bound', async () => {
    const client = new Client([refused, base], 16);
    try {
      mostInFlight = 0;
      const users = [...Array.from({ length: 30 }, (_, i) => `u${i}`), 'ux'];
      const run = await runCrowd({
        client,
        clicks: [...users, 'u0', 'u1'],
        saleFor: () => 'evt',
        concurrency: 4,
      });
      expect(run.attempts).toBe(33);
      expect(run.answered).toBe(33);
      expect(run.byStatus).toEqual({ 202: 30, 409: 2, 500: 1 });
      expect(mostInFlight).toBeLessThanOrEqual(4);
      const sale = run.histories.get('evt')!;
      expect(tally(sale.users.values())).toEqual({ 202: 30, '409 sold_out': 2, 500: 1 });
      expect(sale.users.get('u0')).toMatchObject({ attempts: 2, reservationId: 'r-u0' });
      expect(sale.users.get('ux')!.answers).toEqual([{ status: 500, outcome: 'unexpected' }]);
      // Every user with a named reservation is polled and its last reading kept.
      expect(await settle(client, [sale], { timeoutMs: 10_000 })).toBe(0);
      expect(sale.users.get('u5')!.final).toBe('rejected');
      expect(sale.users.get('ux')!.final).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('records a request with no answer as status 0 (no claim about the ticket)', async () => {
    const client = new Client([refused], 1);
    try {
      const run = await runCrowd({ client, clicks: ['a'], saleFor: () => 'evt', concurrency: 1 });
      expect(run.byStatus).toEqual({ error: 1 });
      expect(run.histories.get('evt')!.users.get('a')!.answers).toEqual([
        { status: 0, outcome: 'error' },
      ]);
    } finally {
      client.close();
    }
  });
});

describe('a history handed over as answer lines', () => {
  it('is rebuilt as the driver would have recorded it', () => {
    const sale = historyFromAnswers('evt', [
      { userId: 'a', status: 202, body: { status: 'pending', reservationId: 'r-a' } },
      { userId: 'a', status: 409, body: { code: 'already_reserved', reservationId: 'r-a' } },
      { userId: 'b', status: 0 },
    ]);
    expect(sale.users.get('a')).toMatchObject({ attempts: 2, reservationId: 'r-a' });
    expect(sale.users.get('a')!.answers.map((t) => t.outcome)).toEqual([
      'accepted',
      'alreadyReserved',
    ]);
    expect(sale.users.get('b')!.answers).toEqual([{ status: 0, outcome: 'error' }]);
  });
});
