// 10,000 distinct users plus 2,000 repeated clicks against 20 tickets, through keep-alive HTTP with
// bounded concurrency, spread over two service processes: every request is answered, exactly 20
// are sold, and I1-I6 hold from both sides (what clients were told, and the databases).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservationId } from '../src/domain/ids.js';
import { TestEnv, createEvent, drained, http, pool } from './helpers.js';

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

interface Told {
  status: number;
  code?: string;
  reservationId?: string;
}

describe('a flash sale under load', () => {
  it(`sells exactly ${CAPACITY} of ${USERS} distinct users (+${REPEATS} repeats), and tells each the truth`, async () => {
    const e = await createEvent(urls[0]!, { capacity: CAPACITY });
    const users = Array.from({ length: USERS }, (_, i) => `user-${i}`);
    const clicks = [...users];
    for (let i = 0; i < REPEATS; i++) clicks.push(users[(i * 7919) % USERS]!);
    // Deterministic shuffle, so repeats interleave with first clicks.
    for (let i = clicks.length - 1; i > 0; i--) {
      const j = (i * 2654435761) % (i + 1);
      [clicks[i], clicks[j]] = [clicks[j]!, clicks[i]!];
    }

    const told = new Map<string, Told[]>();
    const t0 = Date.now();
    await pool(clicks, CONCURRENCY, async (userId, i) => {
      const r = await http<{ code?: string; reservationId?: string }>(
        `${urls[i % urls.length]}/v1/events/${e.id}/reservations`,
        { body: { userId } },
      );
      const list = told.get(userId) ?? [];
      list.push({
        status: r.status,
        ...(r.body.code ? { code: r.body.code } : {}),
        ...(r.body.reservationId ? { reservationId: r.body.reservationId } : {}),
      });
      told.set(userId, list);
    });
    const ms = Date.now() - t0;

    const all = [...told.values()].flat();
    expect(all).toHaveLength(USERS + REPEATS);
    const tally = new Map<string, number>();
    for (const a of all)
      tally.set(
        `${a.status} ${a.code ?? ''}`.trim(),
        (tally.get(`${a.status} ${a.code ?? ''}`.trim()) ?? 0) + 1,
      );
    console.log(
      `load: ${all.length} requests in ${ms} ms (${Math.round((all.length * 1000) / ms)}/s):`,
      Object.fromEntries(tally),
    );
    // Every answer is one the contract allows: no 5xx, no 429, nothing unexpected.
    for (const key of tally.keys())
      expect(['202', '409 sold_out', '409 already_reserved']).toContain(key);

    const audit = await drained(urls[0]!, e.id);
    console.log('load: audit after drain', audit);
    // I1, I2, I4, I6
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
    const holders = new Set(rows.map((r) => r.user_id));
    expect(holders.size).toBe(CAPACITY);
    for (const r of rows) expect(r.id).toBe(reservationId(e.id, r.user_id));

    // I3 and I5: every accepted request is decided; what each user was told matches the rows.
    const accepted = [...told].filter(([, ts]) => ts.some((x) => x.status === 202)).map(([u]) => u);
    const finals = new Map<string, string>();
    await pool(accepted, 50, async (u) => {
      const r = await http<{ status: string }>(
        `${urls[0]}/v1/reservations/${reservationId(e.id, u)}`,
      );
      finals.set(u, r.body.status);
    });
    let confirmed = 0;
    for (const [u, ts] of told) {
      for (const x of ts) {
        if (x.reservationId) expect(x.reservationId).toBe(reservationId(e.id, u));
        if (x.code === 'already_reserved')
          expect(holders.has(u), `${u} told already_reserved`).toBe(true);
        if (x.code === 'sold_out') expect(holders.has(u), `${u} told sold_out`).toBe(false);
      }
      const f = finals.get(u);
      if (f !== undefined) {
        expect(['confirmed', 'rejected'], `${u} still ${f}`).toContain(f);
        expect(f === 'confirmed').toBe(holders.has(u));
        if (f === 'confirmed') confirmed++;
      }
    }
    expect(confirmed).toBe(CAPACITY);
    console.log(
      `load: ${accepted.length} accepted, ${confirmed} confirmed, ${accepted.length - confirmed} rejected`,
    );
  });
});
