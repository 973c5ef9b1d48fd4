// The chaos run's schedule: every ticket is on sale, every wave opens during the load, and clicks
// go to the newest open sale except for the deliberate early and late ones.
import { describe, expect, it } from 'vitest';
import { PROFILES, pickSale, waveCapacities, waveOpensAtMs, type Sale } from './profiles.js';

describe('the chaos profiles', () => {
  it.each(Object.values(PROFILES))(
    '$name: the waves sell every ticket and open during the load',
    (p) => {
      const caps = waveCapacities(p);
      expect(caps).toHaveLength(p.waves);
      expect(caps.reduce((a, b) => a + b, 0)).toBe(p.capacity);
      for (const c of caps) expect(c).toBeGreaterThan(0);
      const opens = caps.map((_, k) => waveOpensAtMs(p, k));
      expect(opens[0]).toBeGreaterThan(0);
      for (let k = 1; k < opens.length; k++) expect(opens[k]).toBeGreaterThan(opens[k - 1]!);
      expect(opens[opens.length - 1]).toBeLessThan(p.durationMs);
      expect(p.attempts).toBeGreaterThanOrEqual(p.distinctUsers);
    },
  );
});

describe('which sale a click goes to', () => {
  const sales: Sale[] = [
    { eventId: 'first', opensAtMs: 1000 },
    { eventId: 'second', opensAtMs: 5000 },
    { eventId: 'third', opensAtMs: 9000 },
  ];

  it('goes to the newest open sale, or the first before any opens', () => {
    const never = () => 0.5;
    expect(pickSale(sales, 0, never).eventId).toBe('first');
    expect(pickSale(sales, 4999, never).eventId).toBe('first');
    expect(pickSale(sales, 5000, never).eventId).toBe('second');
    expect(pickSale(sales, 60_000, never).eventId).toBe('third');
  });

  it('goes to any sale, opened or not, when the one-in-ten draw says so', () => {
    const draws = [0.05, 0.9];
    expect(pickSale(sales, 60_000, () => draws.shift()!).eventId).toBe('third');
    const early = [0.05, 0.0];
    expect(pickSale(sales, 60_000, () => early.shift()!).eventId).toBe('first');
  });
});
