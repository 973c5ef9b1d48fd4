import { describe, expect, it } from 'vitest';
import { nextPreScaleAt, preScaleFloor, type PreScaleSpec, type Sale } from './prescale.js';

const T = 1_800_000_000_000;
const spec: PreScaleSpec = {
  enabled: true,
  leadSeconds: 60,
  holdSeconds: 120,
  expectedRpsPerTicket: 10,
  maxExpectedRps: 20_000,
};
const sale = (over: Partial<Sale> = {}): Sale => ({
  id: 'e1',
  name: 'concert',
  capacity: 500,
  saleStartsAt: T,
  ...over,
});

describe('preScaleFloor', () => {
  it('when the sale is further away than the lead time, then there is no floor', () => {
    expect(preScaleFloor(T - 60_001, [sale()], [], spec, 500)).toBeUndefined();
  });

  it('when the lead time begins, then the floor is the expected rush over the target', () => {
    // 500 tickets × 10 rps = 5,000 rps / 500 per replica = 10.
    const f = preScaleFloor(T - 60_000, [sale()], [], spec, 500);
    expect(f?.replicas).toBe(10);
    expect(f?.why).toContain('opens in 60s');
  });

  it('when the sale has opened, then the floor holds for holdSeconds and then ends', () => {
    expect(preScaleFloor(T + 120_000, [sale()], [], spec, 500)?.replicas).toBe(10);
    expect(preScaleFloor(T + 120_001, [sale()], [], spec, 500)).toBeUndefined();
  });

  it('when the rush model exceeds maxExpectedRps, then the cap is used', () => {
    expect(preScaleFloor(T, [sale({ capacity: 100_000 })], [], spec, 500)?.replicas).toBe(40);
  });

  it('when two sales overlap, then the larger floor wins', () => {
    const f = preScaleFloor(
      T,
      [sale(), sale({ id: 'e2', capacity: 900, saleStartsAt: T + 30_000 })],
      [],
      spec,
      500,
    );
    expect(f?.replicas).toBe(18);
    expect(f?.why).toContain('e2');
  });

  it('when pre-scaling is disabled, then sales are ignored but fixed windows still apply', () => {
    const off = { ...spec, enabled: false };
    expect(preScaleFloor(T, [sale()], [], off, 500)).toBeUndefined();
    const w = { start: T - 1000, end: T + 1000, replicas: 6 };
    expect(preScaleFloor(T, [sale()], [w], off, 500)?.replicas).toBe(6);
    expect(preScaleFloor(T + 1001, [], [w], off, 500)).toBeUndefined();
  });

  it('when a fixed window asks for more than the sale, then the window wins', () => {
    const w = { start: T - 1000, end: T + 1000, replicas: 30 };
    expect(preScaleFloor(T, [sale()], [w], spec, 500)?.replicas).toBe(30);
  });
});

describe('nextPreScaleAt', () => {
  it('is the time until the next lead time or window edge', () => {
    expect(nextPreScaleAt(T - 120_000, [sale()], [], spec)).toBe(60_000);
    expect(nextPreScaleAt(T, [sale()], [], spec)).toBe(120_001);
    expect(nextPreScaleAt(T + 200_000, [sale()], [], spec)).toBeUndefined();
  });
});
