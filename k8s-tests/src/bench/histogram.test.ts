import { describe, expect, it } from 'vitest';
import { quantileMs } from './histogram.js';

const snap = (pairs: Array<[number, number]>) => new Map(pairs);

describe('quantileMs', () => {
  it('interpolates inside the bucket that holds the rank, on the counts between the snapshots', () => {
    const before = snap([
      [0.01, 100],
      [0.1, 100],
      [1, 100],
      [Infinity, 100],
    ]);
    // 100 new decisions: 50 under 10 ms, 40 in (10 ms, 100 ms], 10 in (100 ms, 1 s].
    const after = snap([
      [0.01, 150],
      [0.1, 190],
      [1, 200],
      [Infinity, 200],
    ]);
    expect(quantileMs(before, after, 0.5)).toBe(10);
    expect(quantileMs(before, after, 0.9)).toBe(100);
    // rank 99 is the 9th of the 10 in (0.1, 1]: 0.1 + 0.9 * 0.9 s
    expect(quantileMs(before, after, 0.99)).toBe(910);
  });

  it('answers the highest finite bound when the rank falls in +Inf, and null with no decision', () => {
    const before = snap([
      [1, 0],
      [Infinity, 0],
    ]);
    expect(
      quantileMs(
        before,
        snap([
          [1, 1],
          [Infinity, 10],
        ]),
        0.99,
      ),
    ).toBe(1000);
    expect(quantileMs(before, before, 0.99)).toBeNull();
  });
});
