import { describe, expect, it } from 'vitest';
import { histories, judge, parseLine, quantile, stats, type AnswerLine } from './samples.js';

const line = (inner: unknown) =>
  JSON.stringify({ level: 'info', msg: JSON.stringify(inner), source: 'console', time: 'x' });

const answer = (ms: number, s = 202, u = 'u1', extra: Partial<AnswerLine> = {}): AnswerLine => ({
  u,
  e: 0,
  s,
  ms,
  ...extra,
});

describe('parseLine', () => {
  it('reads the answer and audit lines of main.js out of k6 JSON logs', () => {
    expect(parseLine(line({ k: 'a', u: 'u-1', e: 0, s: 202, st: 'pending', ms: 3.2 }))).toEqual({
      kind: 'answer',
      answer: { k: 'a', u: 'u-1', e: 0, s: 202, st: 'pending', ms: 3.2 },
    });
    expect(parseLine(line({ k: 'audit', e: 1, ok: false, audit: {} })).kind).toBe('audit');
  });

  it('keeps k6 messages and plain text apart from samples', () => {
    const warn = JSON.stringify({ level: 'warning', msg: 'Request Failed', time: 'x' });
    expect(parseLine(warn)).toEqual({ kind: 'log', level: 'warning', msg: 'Request Failed' });
    expect(parseLine('     http_reqs......: 10').kind).toBe('text');
    expect(parseLine('{broken').kind).toBe('text');
    expect(parseLine(line({ k: 'other' })).kind).toBe('log');
  });
});

describe('merged figures', () => {
  it('interpolates percentiles like k6 over every sample, not per pod', () => {
    expect(quantile([1, 2, 3, 4, 5], 0.5)).toBe(3);
    expect(quantile([0, 10], 0.95)).toBeCloseTo(9.5);
    // Two pods: one fast, one slow. The average of their p95s (50.5) is not the p95 of the load.
    const podA = Array.from({ length: 200 }, () => answer(1));
    const podB = Array.from({ length: 100 }, (_, i) => answer(i < 90 ? 1 : 100));
    expect(stats([...podA, ...podB]).p95Ms).toBe(1);
    expect(stats(podB).p95Ms).toBe(100);
  });

  it('counts what is not a decision or a known refusal as an error', () => {
    const s = stats([answer(1, 202), answer(1, 409), answer(1, 503), answer(1, 0), answer(1, 429)]);
    expect(s.failed).toBe(3);
    expect(s.byStatus).toEqual({ '202': 1, '409': 1, '503': 1, error: 1, '429': 1 });
  });

  it('fails each threshold that the figures break, and an empty run', () => {
    const t = { p95Ms: 10, p99Ms: 20, errorRate: 0.1 };
    expect(judge(stats([answer(5), answer(6)]), t)).toEqual([]);
    expect(judge(stats([answer(50)]), t)).toHaveLength(2);
    expect(judge(stats([answer(1, 503)]), t)).toEqual(['error rate 100.00% >= 10%']);
    expect(judge(stats([]), t)[0]).toMatch(/no request/);
  });
});

describe('histories', () => {
  it('records what each user was told, per sale, for the shared checker', () => {
    const [s1, s2] = histories(
      [
        answer(1, 202, 'a', { st: 'pending', r: 'r-a' }),
        answer(1, 201, 'a', { st: 'confirmed', r: 'r-a' }),
        answer(1, 409, 'b', { c: 'sold_out', r: 'r-b' }),
        answer(1, 0, 'c'),
        answer(1, 202, 'd', { e: 1, st: 'pending', r: 'r-d' }),
      ],
      ['ev-1', 'ev-2'],
    );
    expect(s1?.eventId).toBe('ev-1');
    expect(s1?.users.get('a')?.answers.map((t) => t.outcome)).toEqual(['accepted', 'confirmed']);
    expect(s1?.users.get('a')?.reservationId).toBe('r-a');
    expect(s1?.users.get('b')?.answers[0]?.outcome).toBe('rejected');
    expect(s1?.users.get('c')?.answers[0]?.outcome).toBe('error');
    expect(s2?.users.get('d')?.attempts).toBe(1);
  });
});
