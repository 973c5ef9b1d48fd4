import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('when a client spends its burst, then the next request is refused with a retry time', () => {
    let t = 0;
    const rl = new RateLimiter(2, 3, () => t);
    expect([rl.take('a'), rl.take('a'), rl.take('a')]).toEqual([0, 0, 0]);
    expect(rl.take('a')).toBeGreaterThanOrEqual(1);
    expect(rl.take('b')).toBe(0);
    t += 500; // half a second refills one token at 2/s
    expect(rl.take('a')).toBe(0);
    expect(rl.take('a')).toBeGreaterThanOrEqual(1);
  });

  it('when the rate is 0, then it never refuses', () => {
    const rl = new RateLimiter(0, 1);
    for (let i = 0; i < 100; i++) expect(rl.take('x')).toBe(0);
  });
});
