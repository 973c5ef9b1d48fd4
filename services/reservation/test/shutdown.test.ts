// Graceful shutdown: SIGTERM stops accepting, answers the requests in flight, finishes the batch
// in hand, and exits 0; nothing accepted is lost.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { newSaleHistory, recordAnswer, recordError, userOf } from '@flashsale/invariants';
import { TestEnv } from './support/env.js';
import { http } from './support/http.js';
import { createEvent } from './support/events.js';
import { spawnService } from './support/processes.js';
import { checkInvariants } from './support/sale.js';

let t: TestEnv;

beforeAll(async () => {
  t = await TestEnv.create();
});
afterAll(async () => {
  await t?.cleanup();
});

describe('graceful shutdown', () => {
  it('when an API process gets SIGTERM with clients waiting, then each gets its answer and the process exits 0', async () => {
    const api = await spawnService(t, { ROLE: 'api', WAIT_MAX_MS: 30_000 });
    const e = await createEvent(api.url, { capacity: 500 });
    // No worker yet: every request waits for a decision that cannot come.
    const sale = newSaleHistory(e.id);
    const inFlight = Array.from({ length: 100 }, (_, i) => {
      const h = userOf(sale, `w${i}`);
      return http(`${api.url}/v1/events/${e.id}/reservations?wait=30000`, {
        body: { userId: h.userId },
      }).then(
        (r) => recordAnswer(h, r.status, r.body).status,
        () => {
          recordError(h);
          return 0;
        },
      );
    });
    await expect.poll(async () => t.streamMessages(), { timeout: 30_000 }).toBe(100);
    await sleep(200);
    api.proc.kill('SIGTERM');
    const statuses = await Promise.all(inFlight);
    expect(statuses).toEqual(statuses.map(() => 202));
    expect(await api.exited).toBe(0);
    expect(api.output()).toContain('"msg":"stopped"');
    await expect(fetch(`${api.url}/healthz`)).rejects.toThrow();

    // A worker that is stopped mid-stream finishes its batch; another one finishes the queue.
    const w1 = await spawnService(t, { ROLE: 'worker', BATCH_SIZE: 5 });
    await sleep(300);
    w1.proc.kill('SIGTERM');
    expect(await w1.exited).toBe(0);
    const svc = await t.start({ ACK_WAIT_MS: 3000 });
    await checkInvariants(t, svc.url, e.id, 500, sale);
    const { rows } = await t.pg.query<{ n: number }>(
      'select count(*)::int n from reservations where event_id = $1',
      [e.id],
    );
    expect(rows[0]!.n).toBe(100);
  });
});
