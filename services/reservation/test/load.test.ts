// 10,000 distinct users plus 2,000 repeated clicks against 20 tickets, through keep-alive HTTP with
// bounded concurrency, spread over two service processes: every request is answered, exactly 20
// are sold, and I1-I6 hold from both sides (what clients were told, and the databases).
import { Client, crowd, runCrowd, tally, verifySale } from '@flashsale/invariants';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservationId } from '../src/ids.js';
import { ADMIN_TOKEN, TestEnv } from './support/env.js';
import { createEvent, drained } from './support/events.js';

const USERS = 10_000;
const REPEATS = 2_000;
const CAPACITY = 20;
const CONCURRENCY = 200;

let t: TestEnv;
let urls: string[];

beforeAll(async () => {
  t = await TestEnv.create();
  urls = [(await t.start()).url, (await t.start()).url];
});
afterAll(async () => {
  await t?.cleanup();
});

describe('a flash sale under load', () => {
  it(`sells exactly ${CAPACITY} of ${USERS} distinct users (+${REPEATS} repeats), and tells each the truth`, async () => {
    const e = await createEvent(urls[0]!, { capacity: CAPACITY });
    const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
    // Every user once plus the repeats, shuffled the same way on every run so repeated clicks
    // interleave with first ones.
    const clicks = crowd(users, USERS + REPEATS, 'fixed');
    const client = new Client(urls, CONCURRENCY);
    try {
      const run = await runCrowd({
        client,
        clicks,
        saleFor: () => e.id,
        concurrency: CONCURRENCY,
      });
      const ms = run.elapsedMs;
      const sale = run.histories.get(e.id)!;
      const all = [...sale.users.values()].flatMap((h) => h.answers);
      expect(all).toHaveLength(USERS + REPEATS);
      const answers = tally(sale.users.values());
      console.log(
        `load: ${all.length} requests in ${ms} ms (${Math.round((all.length * 1000) / ms)}/s):`,
        answers,
      );
      // Every answer is one the contract allows: no 5xx, no 429, no lost request, nothing unexpected.
      for (const key of Object.keys(answers))
        expect(['202', '409 sold_out', '409 already_reserved']).toContain(key);

      const audit = await drained(urls[0]!, e.id);
      console.log('load: audit after drain', audit);
      // I1, I2, I4, I6 as the service's own audit sees them
      expect(audit).toMatchObject({
        capacity: CAPACITY,
        sold: CAPACITY,
        reservations: CAPACITY,
        duplicateHolders: 0,
        oversold: false,
        remainingRedis: 0,
        drift: 0,
        pendingInQueue: 0,
      });

      const { rows } = await t.pg.query<{ user_id: string; id: string }>(
        'select user_id, id from reservations where event_id = $1',
        [e.id],
      );
      expect(new Set(rows.map((r) => r.user_id)).size).toBe(CAPACITY);
      // The id every answer names is the one derived from the event and the user.
      for (const r of rows) expect(r.id).toBe(reservationId(e.id, r.user_id));
      for (const h of sale.users.values())
        for (const x of h.answers)
          if (x.reservationId) expect(x.reservationId).toBe(reservationId(e.id, h.userId));

      // I1-I6 from both sides with the shared checker: every accepted request is decided, and
      // what each user was told matches the rows.
      const { verdict } = await verifySale({
        client,
        adminToken: ADMIN_TOKEN,
        sale,
        sql: t.pg,
        redis: t.redis,
        redisKeyPrefix: t.redisPrefix,
        timeoutMs: 60_000,
      });
      expect(verdict.violations).toEqual([]);
      expect(verdict.confirmed).toBe(CAPACITY);
      console.log(
        `load: ${verdict.accepted} accepted, ${verdict.confirmed} confirmed, ${verdict.rejected} rejected`,
      );
    } finally {
      client.close();
    }
  });
});
