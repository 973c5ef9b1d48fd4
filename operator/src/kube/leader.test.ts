import { describe, expect, it } from 'vitest';
import { takeoverAt } from './leader.js';

// Lease 15 s, renew deadline 10 s; the standby saw the holder's last renewal at t = 100 s (its clock).
const base = { observedAt: 100_000, leaseDurationMs: 15_000, renewDeadlineMs: 10_000 };

describe('takeoverAt (when a standby may take over a Lease it does not hold)', () => {
  it.each([
    // [case, renewTime (holder's clock), expected takeover]
    ['seen at once, same clock: a lease duration after the renewal', 100_000, 115_000],
    ['seen 1.5 s late, same clock: still a lease duration after the renewal', 98_500, 113_500],
    ['holder clock 3 s behind: 3 s sooner, still after the holder stopped acting', 97_000, 112_000],
    ['holder clock 8 s behind: floored at observed + renew deadline', 92_000, 110_000],
    ['a stale Lease found at start-up: floored at observed + renew deadline', 1_000, 110_000],
    ['holder clock 2 s ahead: capped at observed + lease duration (client-go)', 102_000, 115_000],
    ['no renewTime: observed + lease duration', undefined, 115_000],
    ['unparseable renewTime: observed + lease duration', Number.NaN, 115_000],
  ])('%s', (_case, renewTime, expected) => {
    expect(takeoverAt({ ...base, renewTime })).toBe(expected);
  });

  it('is never sooner than a renew deadline nor later than a lease duration after the observation', () => {
    for (let renewTime = 0; renewTime <= 200_000; renewTime += 250) {
      const at = takeoverAt({ ...base, renewTime });
      expect(at).toBeGreaterThanOrEqual(base.observedAt + base.renewDeadlineMs);
      expect(at).toBeLessThanOrEqual(base.observedAt + base.leaseDurationMs);
    }
  });
});
