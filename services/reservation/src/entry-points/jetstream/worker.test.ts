// The JetStream entry point without NATS: a batch goes parse → decide → record → ack / nak /
// term, whatever the source of the batches (the NATS adapter in production).
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../domain/decide.js';
import { reservationId } from '../../domain/ids.js';
import type { Log, ReservationRecord, ReservationRequest } from '../../domain/model.js';
import { Metrics } from '../../metrics.js';
import { Worker, type BatchSource, type Delivery } from './worker.js';

const EVENT = '6f1c1f9e-2f2e-4c55-9d2a-000000000001';
const silent: Log = { debug() {}, info() {}, warn() {}, error() {} };

/** A message that remembers what the worker did with it. */
function delivery(body: string, seq: number) {
  const done: string[] = [];
  const m: Delivery = {
    data: Buffer.from(body),
    seq,
    subject: `t.reservations.${EVENT}`,
    redelivered: false,
    ack: () => done.push('ack'),
    nak: () => done.push('nak'),
    term: (reason) => done.push(`term:${reason ?? ''}`),
  };
  return { m, done };
}

const request = (userId: string): string =>
  JSON.stringify({
    v: 1,
    reservationId: reservationId(EVENT, userId),
    eventId: EVENT,
    userId,
    acceptedAt: 1,
  });

function setup(opts: { recordFails?: boolean } = {}) {
  const recorded: ReservationRecord[] = [];
  const published: ReservationRecord[] = [];
  const source: BatchSource = {
    ready: true,
    batches: async function* () {},
    backlog: async () => 0,
    stop: async () => {},
  };
  const worker = new Worker({
    source,
    nakDelayMs: 10,
    decider: {
      decideEvent: async (_eventId: string, reqs: ReservationRequest[]): Promise<Verdict[]> =>
        reqs.map((r) =>
          r.userId === 'later'
            ? { action: 'nak', why: 'not sold out in postgres yet' }
            : { action: 'ack', record: { ...r, status: 'confirmed' } },
        ),
    },
    admission: {
      recordDecisions: async (recs) => {
        if (opts.recordFails) throw new Error('redis away');
        recorded.push(...recs);
      },
    },
    bus: { publish: (recs) => published.push(...recs) },
    reconciler: { touch: () => undefined },
    metrics: new Metrics(),
    log: silent,
  });
  return { worker, recorded, published };
}

describe('the JetStream entry point', () => {
  it('when a batch mixes decided, undecided and poison messages, then each is acked, naked or terminated after the decisions are recorded', async () => {
    const s = setup();
    const good = delivery(request('alice'), 1);
    const later = delivery(request('later'), 2);
    const poison = delivery('not json', 3);
    await s.worker.handleBatch([good.m, later.m, poison.m]);
    expect([good.done, later.done, poison.done]).toEqual([['ack'], ['nak'], ['term:unparseable']]);
    expect(s.recorded.map((r) => r.userId)).toEqual(['alice']);
    expect(s.published.map((r) => r.userId)).toEqual(['alice']);
  });

  it('when the decisions cannot be recorded, then nothing is acked: every message comes back', async () => {
    const s = setup({ recordFails: true });
    const a = delivery(request('alice'), 1);
    const b = delivery(request('bob'), 2);
    await s.worker.handleBatch([a.m, b.m]);
    expect([a.done, b.done]).toEqual([['nak'], ['nak']]);
    expect(s.published).toEqual([]);
  });
});
