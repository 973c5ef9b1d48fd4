import { describe, expect, it } from 'vitest';
import type { LiveState, Traffic } from '../../src/api-types.js';
import {
  inventoryProcessor,
  latest,
  replicasProcessor,
  seriesToRows,
  trafficProcessor,
} from './processors.js';

const traffic = (queries: Partial<Traffic['queries']>): Traffic => {
  const empty = { ok: true as const, data: [] };
  return {
    start: 0,
    end: 60,
    step: 15,
    queries: {
      rps: empty,
      acceptLatency: empty,
      decisionLatency: empty,
      errorRate: empty,
      backlog: empty,
      outcomes: empty,
      cpu: empty,
      memory: empty,
      ...queries,
    },
  };
};

describe('seriesToRows', () => {
  it('when series have different timestamps, then rows merge by time and gaps are null', () => {
    const { rows, keys } = seriesToRows([
      {
        name: 'a',
        points: [
          [1, 1],
          [2, 2],
        ],
      },
      {
        name: 'b',
        points: [
          [2, 20],
          [3, null],
        ],
      },
    ]);
    expect(keys).toEqual(['a', 'b']);
    expect(rows).toEqual([
      { t: 1000, a: 1, b: null },
      { t: 2000, a: 2, b: 20 },
      { t: 3000, a: null, b: null },
    ]);
  });

  it('when two series share a name, then the second gets its own key', () => {
    expect(
      seriesToRows([
        { name: 'p', points: [] },
        { name: 'p', points: [] },
      ]).keys,
    ).toEqual(['p', 'p (2)']);
  });
});

describe('trafficProcessor', () => {
  it('when latency comes in seconds, then the chart gets milliseconds', () => {
    const p = trafficProcessor('acceptLatency')(
      traffic({ acceptLatency: { ok: true, data: [{ name: 'p95', points: [[10, 0.0125]] }] } }),
    );
    expect(p).toEqual({ kind: 'data', keys: ['p95'], rows: [{ t: 10_000, p95: 12.5 }] });
  });

  it('when the query failed, then the chart shows the error', () => {
    const p = trafficProcessor('rps')(
      traffic({
        rps: {
          ok: false,
          error: { source: 'prometheus', code: 'unreachable', message: 'prometheus: down' },
        },
      }),
    );
    expect(p).toEqual({ kind: 'error', message: 'prometheus: down' });
  });

  it('when there are no series or only NaN points, then the chart is empty, not a flat zero', () => {
    expect(trafficProcessor('rps')(traffic({})).kind).toBe('empty');
    expect(
      trafficProcessor('rps')(
        traffic({ rps: { ok: true, data: [{ name: 'r', points: [[1, null]] }] } }),
      ).kind,
    ).toBe('empty');
  });

  it('latest skips trailing gaps', () => {
    expect(
      latest(
        [
          { t: 1, a: 3 },
          { t: 2, a: null },
        ],
        'a',
      ),
    ).toBe(3);
    expect(latest([], 'a')).toBeNull();
  });
});

describe('replicasProcessor', () => {
  const deployments: LiveState['deployments'] = { ok: true, data: [] };
  it('when the autoscaler decided, then its wish is a third line and its reason is kept', () => {
    const p = replicasProcessor({
      deployments,
      replicas: [
        { t: 1, desired: 2, ready: 1, autoscalerDesired: null, reason: null },
        { t: 2, desired: 2, ready: 2, autoscalerDesired: 6, reason: 'ScaledUp' },
      ],
    });
    expect(p).toMatchObject({
      kind: 'data',
      keys: ['desired', 'ready', 'autoscaler'],
      lastReason: 'ScaledUp',
    });
  });

  it('when the Deployment is missing or Kubernetes is down, then empty or error', () => {
    expect(replicasProcessor({ deployments, replicas: [] }).kind).toBe('empty');
    expect(
      replicasProcessor({
        deployments: {
          ok: false,
          error: { source: 'kubernetes', code: 'unauthorized', message: 'no' },
        },
        replicas: [{ t: 1, desired: null, ready: null, autoscalerDesired: null, reason: null }],
      }),
    ).toEqual({ kind: 'error', message: 'no' });
  });
});

describe('inventoryProcessor', () => {
  const sale = {
    id: 'e',
    name: 'Concert',
    state: 'scheduled',
    capacity: 200,
    sold: 50,
    remaining: 150,
    saleStartsAt: '2026-01-01T00:10:00Z',
    saleEndsAt: null,
    pending: 400,
    oversold: false,
    drift: 0,
    reservations: 50,
  };
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('when a sale starts later, then it counts down; pending never overflows the bar', () => {
    const p = inventoryProcessor({ ok: true, data: [sale] }, now);
    expect(p.kind).toBe('data');
    if (p.kind !== 'data') return;
    expect(p.bars[0]).toMatchObject({
      opensIn: 600,
      soldShare: 0.25,
      pending: 150,
      pendingShare: 0.75,
    });
  });

  it('when the sale has opened, then no countdown', () => {
    const p = inventoryProcessor({ ok: true, data: [sale] }, now + 3_600_000);
    expect(p.kind === 'data' && p.bars[0]!.opensIn).toBeNull();
  });

  it('when there are no sales or the service is down, then empty or error', () => {
    expect(inventoryProcessor({ ok: true, data: [] }, now).kind).toBe('empty');
    expect(
      inventoryProcessor(
        { ok: false, error: { source: 'reservation', code: 'unreachable', message: 'gone' } },
        now,
      ),
    ).toEqual({ kind: 'error', message: 'gone' });
  });
});
