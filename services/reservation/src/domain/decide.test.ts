// The Decider's rules with in-memory ports: what it does with each message, whatever Redis says.
import { describe, expect, it } from 'vitest';
import { Catalog, type CatalogStore } from './catalog.js';
import { Decider, type DecideDeps } from './decide.js';
import { reservationId } from './ids.js';
import type { AdmitResult, Log, ReservationRequest } from './model.js';

const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

const EVENT = '6f1c1f9e-2f2e-4c55-9d2a-000000000001';

/** Postgres in memory: capacity, rows, and an optional refusal of the next commit. */
function fakeStore(capacity: number, rows: string[] = []) {
  const held = new Set(rows);
  const store: CatalogStore & DecideDeps['store'] = {
    listEventIds: async () => [EVENT],
    getEvent: async (id) =>
      id === EVENT
        ? { id, name: 'e', capacity, saleStartsAt: null, saleEndsAt: null, createdAt: new Date() }
        : null,
    counts: async () => ({ capacity, sold: held.size }),
    holdersPage: async (_e, after, limit) =>
      [...held]
        .filter((u) => u > after)
        .sort()
        .slice(0, limit),
    existingHolders: async (_e, users) => new Set(users.filter((u) => held.has(u))),
    commitWinners: async (_e, winners) => {
      const confirmed: string[] = [];
      const refused: string[] = [];
      for (const w of winners) {
        if (held.has(w.userId)) confirmed.push(w.userId);
        else if (held.size < capacity) {
          held.add(w.userId);
          confirmed.push(w.userId);
        } else refused.push(w.userId);
      }
      return { confirmed, refused, sold: held.size, capacity };
    },
    losersCheck: async (_e, users) => ({
      full: held.size >= capacity,
      withRow: new Set(users.filter((u) => held.has(u))),
    }),
  };
  return { store, held };
}

/** Redis in memory, or one that always answers `forced`. */
function fakeAdmission(remaining: number | null, forced?: AdmitResult) {
  const holders = new Set<string>();
  const released: string[] = [];
  const admission: DecideDeps['admission'] = {
    admit: async (_e, users, adopt) => {
      if (remaining === null) return null;
      for (const u of adopt) {
        if (holders.has(u)) continue;
        holders.add(u);
        remaining--;
      }
      return users.map((u): AdmitResult => {
        if (forced) return forced;
        if (holders.has(u)) return 'holder';
        if (remaining! > 0) {
          remaining!--;
          holders.add(u);
          return 'won';
        }
        return 'sold_out';
      });
    },
    release: async (_e, users) => {
      released.push(...users);
    },
  };
  return { admission, holders, released, remaining: () => remaining };
}

function setup(opts: {
  capacity: number;
  rows?: string[];
  remaining: number | null;
  forced?: AdmitResult;
}) {
  const { store, held } = fakeStore(opts.capacity, opts.rows);
  const redis = fakeAdmission(opts.remaining, opts.forced);
  const kicked: string[] = [];
  let rebuilt = 0;
  const catalog = new Catalog(store, { missTtlMs: 1000, notFullTtlMs: 0 });
  const decider = new Decider({
    catalog,
    store,
    admission: redis.admission,
    log: silent,
    kick: (id) => kicked.push(id),
    rebuild: async () => {
      rebuilt++;
      redis.admission.admit = fakeAdmission(opts.capacity - held.size).admission.admit;
    },
  });
  return { decider, held, redis, kicked, rebuilt: () => rebuilt, catalog };
}

const req = (userId: string, eventId = EVENT): ReservationRequest => ({
  v: 1,
  reservationId: reservationId(eventId, userId),
  eventId,
  userId,
  acceptedAt: 1,
});
const outcome = (v: { action: string; record?: { status: string } }) =>
  v.action === 'ack' ? v.record!.status : v.action;

describe('Decider', () => {
  it('when seats remain, then winners are committed and confirmed, the rest rejected once Postgres is full', async () => {
    const s = setup({ capacity: 2, remaining: 2 });
    const v = await s.decider.decideEvent(
      EVENT,
      ['a', 'b', 'c'].map((u) => req(u)),
    );
    expect(v.map(outcome)).toEqual(['confirmed', 'confirmed', 'rejected']);
    expect([...s.held]).toEqual(['a', 'b']);
    expect(s.catalog.isSoldOut(EVENT)).toBe(true);
  });

  it('when Redis says sold out but Postgres has seats, then nobody is rejected: the message comes back later', async () => {
    const s = setup({ capacity: 5, remaining: 0 });
    const v = await s.decider.decideEvent(EVENT, [req('a')]);
    expect(v.map(outcome)).toEqual(['nak']);
    expect(s.kicked).toEqual([EVENT]);
    expect(s.held.size).toBe(0);
  });

  it('when a user already holds a row, then it is confirmed and adopted without a second seat', async () => {
    const s = setup({ capacity: 3, rows: ['a'], remaining: 3 });
    const v = await s.decider.decideEvent(EVENT, [req('a'), req('a'), req('b')]);
    expect(v.map(outcome)).toEqual(['confirmed', 'confirmed', 'confirmed']);
    expect(s.redis.remaining()).toBe(1);
    expect([...s.held].sort()).toEqual(['a', 'b']);
  });

  it('when Redis admits more than Postgres has seats, then Postgres wins: the extra are rejected and released', async () => {
    const s = setup({ capacity: 1, rows: ['x'], remaining: 0, forced: 'won' });
    const v = await s.decider.decideEvent(EVENT, [req('a'), req('b')]);
    expect(v.map(outcome)).toEqual(['rejected', 'rejected']);
    expect(s.redis.released).toEqual(['a', 'b']);
    expect([...s.held]).toEqual(['x']);
  });

  it('when Redis lost the counters, then they are rebuilt before deciding', async () => {
    const s = setup({ capacity: 2, remaining: null });
    const v = await s.decider.decideEvent(EVENT, [req('a')]);
    expect(s.rebuilt()).toBe(1);
    expect(v.map(outcome)).toEqual(['confirmed']);
  });

  it('when the event is unknown, then its messages are terminated', async () => {
    const s = setup({ capacity: 2, remaining: 2 });
    const other = '6f1c1f9e-2f2e-4c55-9d2a-000000000002';
    const v = await s.decider.decideEvent(other, [req('a', other)]);
    expect(v).toEqual([{ action: 'term', reason: 'unknown_event' }]);
  });

  it('when the event is sold out, then holders are confirmed and others rejected without Redis', async () => {
    const s = setup({ capacity: 1, rows: ['a'], remaining: null });
    await s.catalog.checkSoldOut(EVENT);
    const v = await s.decider.decideEvent(EVENT, [req('a'), req('b')]);
    expect(v.map(outcome)).toEqual(['confirmed', 'rejected']);
    expect(s.rebuilt()).toBe(0);
  });
});
