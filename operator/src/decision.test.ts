import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SPEC,
  Reason,
  desiredReplicas,
  type DecisionInputs,
  type DecisionSpec,
  type Signal,
} from './decision.js';

const T = 1_800_000_000_000;
const ok = (value: number): Signal => ({ available: true, value });
const gone: Signal = { available: false, reason: 'timeout' };

// Targets of 100 RPS and 100 messages per replica keep the arithmetic of the table readable.
const spec = (over: Partial<DecisionSpec> = {}): DecisionSpec => ({
  ...DEFAULT_SPEC,
  minReplicas: 1,
  maxReplicas: 20,
  targetRpsPerReplica: 100,
  targetBacklogPerReplica: 100,
  ...over,
});

const input = (over: Partial<DecisionInputs> = {}): DecisionInputs => ({
  now: T,
  spec: spec(),
  rps: ok(0),
  backlog: ok(0),
  currentReplicas: 4,
  history: [],
  consecutiveFailures: 0,
  ...over,
});

/** A history that has recommended `n` for the whole default scale-down window. */
const steady = (n: number) => [
  { at: T - 130_000, replicas: n },
  { at: T - 60_000, replicas: n },
];

interface Case {
  name: string;
  in: DecisionInputs;
  replicas: number;
  reason: Reason;
  apply?: boolean;
  recommended?: number;
  limitedBy?: string;
  metricsAvailable?: boolean;
}

const cases: Case[] = [
  // Signals and the max over them.
  {
    name: 'rps alone drives: 800 rps / 100 → 8',
    in: input({ rps: ok(800) }),
    replicas: 8,
    reason: Reason.ScaledUp,
  },
  {
    name: 'backlog alone drives: 1,250 pending / 100 → 13',
    in: input({ backlog: ok(1250) }),
    replicas: 13,
    reason: Reason.ScaledUp,
  },
  {
    name: 'the larger need wins (rps 600, backlog 900 → 9)',
    in: input({ rps: ok(600), backlog: ok(900) }),
    replicas: 9,
    reason: Reason.ScaledUp,
  },
  {
    name: 'fractions round up: 401 rps on 2 → 5',
    in: input({ currentReplicas: 2, rps: ok(401) }),
    replicas: 5,
    reason: Reason.ScaledUp,
  },
  {
    name: 'exactly at target: 400 rps on 4 → no change',
    in: input({ rps: ok(400) }),
    replicas: 4,
    reason: Reason.WithinTolerance,
  },
  // Tolerance.
  {
    name: 'inside +10%: 440 rps on 4 → hold',
    in: input({ rps: ok(440) }),
    replicas: 4,
    reason: Reason.WithinTolerance,
  },
  {
    name: 'inside -10%: 361 rps on 4, settled history → hold',
    in: input({ rps: ok(361), history: steady(4) }),
    replicas: 4,
    reason: Reason.WithinTolerance,
  },
  {
    name: 'just outside +10%: 441 rps on 4 → 5',
    in: input({ rps: ok(441) }),
    replicas: 5,
    reason: Reason.ScaledUp,
  },
  {
    name: 'tolerance 0: 401 rps on 4 → 5',
    in: input({ rps: ok(401), spec: spec({ tolerance: 0 }) }),
    replicas: 5,
    reason: Reason.ScaledUp,
  },
  {
    name: 'backlog outside the band while rps inside → up',
    in: input({ rps: ok(400), backlog: ok(700) }),
    replicas: 7,
    reason: Reason.ScaledUp,
  },
  // Scale-up in one step.
  {
    name: 'flash sale: 2 → 20 in one step',
    in: input({ currentReplicas: 2, rps: ok(2000) }),
    replicas: 20,
    reason: Reason.ScaledUp,
  },
  {
    name: 'above max clamps to max and says so',
    in: input({ rps: ok(5000) }),
    replicas: 20,
    reason: Reason.ScaledUp,
    limitedBy: 'maxReplicas',
  },
  {
    name: 'already at max with more demand → AtMaximum',
    in: input({ currentReplicas: 20, rps: ok(5000) }),
    replicas: 20,
    reason: Reason.AtMaximum,
    limitedBy: 'maxReplicas',
  },
  {
    name: 'optional scale-up step limit: 4 → 7 when 3 pods per step',
    in: input({
      rps: ok(2000),
      spec: spec({ scaleUp: { stabilizationWindowSeconds: 0, maxStepPods: 3 } }),
    }),
    replicas: 7,
    reason: Reason.ScaledUp,
    limitedBy: 'scaleUpStep',
  },
  {
    name: 'scale-up window: lowest recent recommendation wins',
    in: input({
      rps: ok(1000),
      spec: spec({ scaleUp: { stabilizationWindowSeconds: 30, maxStepPods: 0 } }),
      history: [{ at: T - 10_000, replicas: 6 }],
    }),
    replicas: 6,
    reason: Reason.ScaledUp,
  },
  {
    name: 'scale-up window holding at current → Stabilizing',
    in: input({
      rps: ok(1000),
      spec: spec({ scaleUp: { stabilizationWindowSeconds: 30, maxStepPods: 0 } }),
      history: [{ at: T - 10_000, replicas: 3 }],
    }),
    replicas: 4,
    reason: Reason.Stabilizing,
  },
  {
    name: 'starting pods count: 10 asked for, 2 ready, 1000 rps → no more',
    in: input({ currentReplicas: 10, rps: ok(1000), history: steady(10) }),
    replicas: 10,
    reason: Reason.WithinTolerance,
  },
  // Scale-down: window, then bounded steps, spaced.
  {
    name: 'demand drops, no history older than now → waits for the window',
    in: input({ currentReplicas: 10, rps: ok(100), history: [{ at: T - 5_000, replicas: 10 }] }),
    replicas: 10,
    reason: Reason.Stabilizing,
  },
  {
    name: 'window still holds a high recommendation → Stabilizing',
    in: input({
      currentReplicas: 10,
      rps: ok(100),
      history: [
        { at: T - 130_000, replicas: 2 },
        { at: T - 100_000, replicas: 10 },
      ],
    }),
    replicas: 10,
    reason: Reason.Stabilizing,
  },
  {
    name: 'window passed: down by max(2 pods, 25%) = 3 of 10',
    in: input({ currentReplicas: 10, rps: ok(100), history: steady(1) }),
    replicas: 7,
    reason: Reason.ScaledDown,
    limitedBy: 'scaleDownStep',
  },
  {
    name: 'small step within the limit is taken whole: 4 → 3',
    in: input({ rps: ok(300), history: steady(3) }),
    replicas: 3,
    reason: Reason.ScaledDown,
  },
  {
    name: 'window max above raw: down only to the window max',
    in: input({ currentReplicas: 10, rps: ok(100), history: [{ at: T - 100_000, replicas: 9 }] }),
    replicas: 9,
    reason: Reason.ScaledDown,
  },
  {
    name: 'steps spaced by periodSeconds: last step 5 s ago → wait',
    in: input({ currentReplicas: 7, rps: ok(100), history: steady(1), lastScaleDownAt: T - 5_000 }),
    replicas: 7,
    reason: Reason.Stabilizing,
  },
  {
    name: 'next step after the period: 7 → 5',
    in: input({
      currentReplicas: 7,
      rps: ok(100),
      history: steady(1),
      lastScaleDownAt: T - 16_000,
    }),
    replicas: 5,
    reason: Reason.ScaledDown,
    limitedBy: 'scaleDownStep',
  },
  {
    name: 'never below min: 0 rps → min 2',
    in: input({
      currentReplicas: 3,
      rps: ok(0),
      spec: spec({ minReplicas: 2 }),
      history: steady(0),
    }),
    replicas: 2,
    reason: Reason.ScaledDown,
  },
  {
    name: 'at min with no demand → AtMinimum',
    in: input({
      currentReplicas: 2,
      rps: ok(0),
      spec: spec({ minReplicas: 2 }),
      history: steady(0),
    }),
    replicas: 2,
    reason: Reason.AtMinimum,
    limitedBy: 'minReplicas',
  },
  {
    name: 'below min (someone scaled by hand) → up to min',
    in: input({ currentReplicas: 0, spec: spec({ minReplicas: 2 }) }),
    replicas: 2,
    reason: Reason.ScaledUp,
    limitedBy: 'minReplicas',
  },
  {
    name: 'above max (someone scaled by hand) → down to max at once',
    in: input({ currentReplicas: 30, rps: ok(3000), history: steady(30) }),
    replicas: 20,
    reason: Reason.ScaledDown,
    limitedBy: 'maxReplicas',
  },
  // Unavailable metrics never scale down.
  {
    name: 'all signals unavailable → hold',
    in: input({ currentReplicas: 10, rps: gone, backlog: gone, history: steady(1) }),
    replicas: 10,
    reason: Reason.MetricsUnavailableHold,
    metricsAvailable: false,
  },
  {
    name: 'rps unavailable, backlog low → hold, no scale-down',
    in: input({ currentReplicas: 10, rps: gone, backlog: ok(0), history: steady(1) }),
    replicas: 10,
    reason: Reason.MetricsUnavailableHold,
    metricsAvailable: false,
  },
  {
    name: 'rps unavailable, backlog high → still scales up',
    in: input({ rps: gone, backlog: ok(1500) }),
    replicas: 15,
    reason: Reason.ScaledUp,
    metricsAvailable: false,
  },
  {
    name: 'backlog unavailable (consumer missing), rps high → up',
    in: input({ rps: ok(900), backlog: gone }),
    replicas: 9,
    reason: Reason.ScaledUp,
    metricsAvailable: false,
  },
  {
    name: 'fallback below threshold → hold',
    in: input({
      rps: gone,
      backlog: gone,
      consecutiveFailures: 1,
      spec: spec({ fallback: { failureThreshold: 3, replicas: 8 } }),
    }),
    replicas: 4,
    reason: Reason.MetricsUnavailableHold,
  },
  {
    name: 'fallback at threshold → fallback replicas',
    in: input({
      rps: gone,
      backlog: gone,
      consecutiveFailures: 2,
      spec: spec({ fallback: { failureThreshold: 3, replicas: 8 } }),
    }),
    replicas: 8,
    reason: Reason.Fallback,
  },
  {
    name: 'fallback lower than current never scales down',
    in: input({
      currentReplicas: 12,
      rps: gone,
      backlog: gone,
      consecutiveFailures: 9,
      spec: spec({ fallback: { failureThreshold: 3, replicas: 8 } }),
    }),
    replicas: 12,
    reason: Reason.MetricsUnavailableHold,
  },
  // Pre-scale.
  {
    name: 'pre-scale floor above demand → PreScale',
    in: input({ rps: ok(100), preScale: { replicas: 12, why: 'sale x opens in 30s' } }),
    replicas: 12,
    reason: Reason.PreScale,
  },
  {
    name: 'pre-scale floor below demand → demand wins',
    in: input({ rps: ok(1500), preScale: { replicas: 12, why: 'sale' } }),
    replicas: 15,
    reason: Reason.ScaledUp,
  },
  {
    name: 'pre-scale floor clamped to max',
    in: input({ rps: ok(0), preScale: { replicas: 50, why: 'sale' } }),
    replicas: 20,
    reason: Reason.PreScale,
    limitedBy: 'maxReplicas',
  },
  {
    name: 'pre-scale floor also holds while metrics are gone',
    in: input({ rps: gone, backlog: gone, preScale: { replicas: 9, why: 'sale' } }),
    replicas: 9,
    reason: Reason.PreScale,
  },
  // Paused and dry-run.
  {
    name: 'paused: nothing applied, recommendation reported',
    in: input({ rps: ok(900), spec: spec({ paused: true }) }),
    replicas: 4,
    reason: Reason.Paused,
    apply: false,
    recommended: 9,
  },
  {
    name: 'dry-run: recommendedReplicas only',
    in: input({ rps: ok(900), spec: spec({ dryRun: true }) }),
    replicas: 4,
    reason: Reason.ScaledUp,
    apply: false,
    recommended: 9,
  },
  {
    name: 'dry-run scale-down is reported, not applied',
    in: input({
      currentReplicas: 10,
      rps: ok(100),
      history: steady(1),
      spec: spec({ dryRun: true }),
    }),
    replicas: 10,
    reason: Reason.ScaledDown,
    apply: false,
    recommended: 7,
  },
];

describe('desiredReplicas', () => {
  it('has a table of at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name', (c) => {
    const d = desiredReplicas(c.in);
    expect({ replicas: d.replicas, reason: d.reason }).toEqual({
      replicas: c.replicas,
      reason: c.reason,
    });
    expect(d.apply).toBe(c.apply ?? d.replicas !== c.in.currentReplicas);
    expect(d.recommendedReplicas).toBe(c.recommended ?? c.replicas);
    if (c.limitedBy !== undefined) expect(d.limitedBy).toBe(c.limitedBy);
    if (c.metricsAvailable !== undefined) expect(d.metricsAvailable).toBe(c.metricsAvailable);
    expect(d.message).toContain('current');
  });

  it('counts consecutive all-unavailable decisions and resets on any signal', () => {
    const first = desiredReplicas(input({ rps: gone, backlog: gone, consecutiveFailures: 4 }));
    expect(first.consecutiveFailures).toBe(5);
    const back = desiredReplicas(input({ rps: gone, backlog: ok(0), consecutiveFailures: 5 }));
    expect(back.consecutiveFailures).toBe(0);
  });

  it('records the raw recommendation, not the stabilized one, for the history', () => {
    const d = desiredReplicas(
      input({ currentReplicas: 10, rps: ok(100), history: [{ at: T - 1_000, replicas: 10 }] }),
    );
    expect(d.replicas).toBe(10);
    expect(d.recommendation).toBe(1);
  });

  it('a minute of outage after a peak leaves replicas where they were, every tick', () => {
    let current = 10;
    let failures = 0;
    const history = steady(1);
    for (let s = 0; s < 60; s += 2) {
      const d = desiredReplicas(
        input({
          now: T + s * 1000,
          currentReplicas: current,
          rps: gone,
          backlog: gone,
          consecutiveFailures: failures,
          history,
        }),
      );
      current = d.replicas;
      failures = d.consecutiveFailures;
      history.push({ at: T + s * 1000, replicas: d.recommendation });
    }
    expect(current).toBe(10);
    expect(failures).toBe(30);
  });
});
