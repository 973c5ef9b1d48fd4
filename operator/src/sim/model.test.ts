import { describe, expect, it } from 'vitest';
import { HpaModel, hpaScaler, kedaScaler, operatorScaler, simulate, type Trace } from './model.js';

describe('HpaModel (the anchor must be the real algorithm)', () => {
  it('when demand is far above, then each 15 s sync grows by max(100%, 4 pods)', () => {
    const hpa = new HpaModel(100);
    const seq: number[] = [];
    let current = 1;
    for (let t = 0; t <= 60; t++) {
      const d = hpa.sync(t, current, 10_000);
      if (d !== undefined) {
        current = d;
        seq.push(d);
      }
    }
    expect(seq).toEqual([5, 10, 20, 40, 80]);
  });

  it('when within 10% of the target, then nothing changes', () => {
    expect(new HpaModel(100).sync(0, 10, 1090)).toBeUndefined();
    expect(new HpaModel(100).sync(0, 10, 1110)).toBe(12);
  });

  it('when demand falls, then it scales down only after the 300 s window', () => {
    const hpa = new HpaModel(100);
    hpa.sync(0, 10, 1000);
    const downs: Array<[number, number]> = [];
    let current = 10;
    for (let t = 15; t <= 400; t++) {
      const d = hpa.sync(t, current, 100);
      if (d !== undefined) {
        downs.push([t, d]);
        current = d;
      }
    }
    expect(downs).toEqual([[300, 1]]);
  });

  it('when the metric fails, then it holds', () => {
    expect(new HpaModel(100).sync(0, 10, undefined)).toBeUndefined();
  });
});

describe('simulate', () => {
  const trace: Trace = {
    name: 'step',
    description: '',
    seconds: 400,
    rushAt: 100,
    demand: (t) => (t < 100 ? 500 : 4000),
  };

  it('when the same step hits each scaler, then the operator decides first and KEDA last', () => {
    const op = simulate(trace, () => operatorScaler(trace));
    const hpa = simulate(trace, () => hpaScaler());
    const keda = simulate(trace, () => kedaScaler());
    expect(op.decisionSeconds).not.toBeNull();
    expect(op.decisionSeconds ?? Infinity).toBeLessThanOrEqual(hpa.decisionSeconds ?? Infinity);
    expect(hpa.decisionSeconds ?? Infinity).toBeLessThanOrEqual(keda.decisionSeconds ?? Infinity);
    expect(op.secondsUnderCapacity).toBeLessThan(hpa.secondsUnderCapacity);
  });

  it('when a listed sale opens, then the operator has capacity ready before it', () => {
    const sale: Trace = { ...trace, sale: { startsAt: 100, capacity: 400 } };
    const r = simulate(sale, () => operatorScaler(sale));
    expect(r.rushToCapacitySeconds ?? Infinity).toBeLessThanOrEqual(0);
    expect(r.secondsUnderCapacity).toBe(0);
  });
});
