// The scaling decision, kept pure: the reconcile loop reads state, calls desiredReplicas() and writes
// what it returns. Everything time-dependent comes in through `now` and the recommendation history,
// so the same function drives the controller, the unit table and the autoscaling simulation.

/** A signal reading: a number, or the reason there is none. Never a guessed number. */
export type Signal = { available: true; value: number } | { available: false; reason: string };

/** Constant reasons, shown in status.lastReason and used as Event reasons. */
export const Reason = {
  ScaledUp: 'ScaledUp',
  ScaledDown: 'ScaledDown',
  WithinTolerance: 'WithinTolerance',
  Stabilizing: 'Stabilizing',
  StepLimited: 'StepLimited',
  MetricsUnavailableHold: 'MetricsUnavailableHold',
  Fallback: 'Fallback',
  PreScale: 'PreScale',
  Paused: 'Paused',
  AtMinimum: 'AtMinimum',
  AtMaximum: 'AtMaximum',
  NoChange: 'NoChange',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** The part of the ReservationAutoscaler spec the decision reads (defaults already applied). */
export interface DecisionSpec {
  minReplicas: number;
  maxReplicas: number;
  targetRpsPerReplica: number;
  targetBacklogPerReplica: number;
  /** Relative band around the target inside which nothing changes (0.1 = ±10%). */
  tolerance: number;
  scaleUp: {
    /** Lowest recommendation of this window wins for a scale-up; 0 = act on the latest. */
    stabilizationWindowSeconds: number;
    /** Most pods added in one decision; 0 = no limit (straight to the computed count). */
    maxStepPods: number;
  };
  scaleDown: {
    /** Highest recommendation of this window wins for a scale-down. */
    stabilizationWindowSeconds: number;
    /** Most pods removed per step: max(maxStepPods, maxStepPercent of current). */
    maxStepPods: number;
    maxStepPercent: number;
    /** Least time between two scale-down steps. */
    periodSeconds: number;
  };
  /** After this many consecutive decisions with no signal at all, go to at least `replicas`. */
  fallback?: { failureThreshold: number; replicas: number } | undefined;
  paused: boolean;
  dryRun: boolean;
}

/** One past raw recommendation, kept by the caller for the stabilization windows. */
export interface Recommendation {
  at: number;
  replicas: number;
}

export interface DecisionInputs {
  /** Milliseconds since the epoch. */
  now: number;
  spec: DecisionSpec;
  rps: Signal;
  backlog: Signal;
  /** The Deployment's spec.replicas: pods starting up count as capacity already asked for. */
  currentReplicas: number;
  /** Recommendations of earlier decisions (any order; older than both windows may be dropped). */
  history: readonly Recommendation[];
  /** When the last scale-down was applied, if any. */
  lastScaleDownAt?: number | undefined;
  /** Consecutive earlier decisions in which every signal was unavailable. */
  consecutiveFailures: number;
  /** Replicas the sale schedule asks for right now (pre-scale), if a rush is imminent. */
  preScale?: { replicas: number; why: string } | undefined;
}

export interface Decision {
  /** What the Deployment should be set to (equals currentReplicas when nothing is applied). */
  replicas: number;
  /** What the operator would set: status.recommendedReplicas (the answer in dry-run). */
  recommendedReplicas: number;
  /** Whether the caller should write `replicas` to the Deployment. */
  apply: boolean;
  reason: Reason;
  /** One human sentence with the inputs, for status and the Event. */
  message: string;
  /** The raw recommendation of this decision, to append to the history. */
  recommendation: number;
  metricsAvailable: boolean;
  /** The bound that held the result back (min/max/step), if any: the ScalingLimited condition. */
  limitedBy?: 'minReplicas' | 'maxReplicas' | 'scaleUpStep' | 'scaleDownStep' | undefined;
  /** Consecutive all-unavailable decisions including this one. */
  consecutiveFailures: number;
}

function perReplica(sig: Signal, target: number): number | undefined {
  return sig.available ? Math.ceil(sig.value / target) : undefined;
}

function describe(sig: Signal, unit: string): string {
  return sig.available ? `${round(sig.value)} ${unit}` : `${unit} unavailable (${sig.reason})`;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/**
 * Replicas wanted now: max over the available signals of ceil(value / target per replica), held
 * inside the tolerance band, scaled up in one step, scaled down only after the stabilization window
 * and in bounded steps, never scaled down while a signal is missing, clamped to [min, max].
 */
export function desiredReplicas(inp: DecisionInputs): Decision {
  const { spec, now, currentReplicas: current } = inp;
  const rpsNeed = perReplica(inp.rps, spec.targetRpsPerReplica);
  const backlogNeed = perReplica(inp.backlog, spec.targetBacklogPerReplica);
  const needs = [rpsNeed, backlogNeed].filter((n): n is number => n !== undefined);
  const allMissing = needs.length === 0;
  const anyMissing = needs.length < 2;
  const failures = allMissing ? inp.consecutiveFailures + 1 : 0;
  const inputs = `${describe(inp.rps, 'rps')}, ${describe(inp.backlog, 'backlog')}, current ${current}`;

  // Raw recommendation from the signals, with the tolerance band around the current count.
  let raw: number;
  let rawReason: Reason;
  if (allMissing) {
    raw = current;
    rawReason = Reason.MetricsUnavailableHold;
    if (
      spec.fallback &&
      failures >= spec.fallback.failureThreshold &&
      spec.fallback.replicas > current
    ) {
      raw = Math.max(current, spec.fallback.replicas);
      rawReason = Reason.Fallback;
    }
  } else {
    const computed = Math.max(...needs);
    const ratios: number[] = [];
    if (inp.rps.available) ratios.push(inp.rps.value / (spec.targetRpsPerReplica * current));
    if (inp.backlog.available)
      ratios.push(inp.backlog.value / (spec.targetBacklogPerReplica * current));
    const ratio = Math.max(...ratios);
    // The epsilon keeps 440/400 = 1.1000000000000001 inside a 10% band, as a reader expects.
    if (current > 0 && Math.abs(ratio - 1) <= spec.tolerance + 1e-9) {
      raw = current;
      rawReason = Reason.WithinTolerance;
    } else {
      raw = computed;
      rawReason = computed > current ? Reason.ScaledUp : Reason.ScaledDown;
    }
    // A missing signal might be the one that needs more pods: hold what we have, never go down.
    if (anyMissing && raw < current) {
      raw = current;
      rawReason = Reason.MetricsUnavailableHold;
    }
  }
  if (inp.preScale && inp.preScale.replicas > raw) {
    raw = inp.preScale.replicas;
    rawReason = Reason.PreScale;
  }
  const recommendation = raw;

  // Stabilization: for a scale-down the highest recommendation of the window wins, for a scale-up
  // the lowest of its (usually empty) window.
  const history = [...inp.history, { at: now, replicas: raw }];
  const inWindow = (sec: number) => history.filter((h) => h.at >= now - sec * 1000);
  let target = raw;
  let reason: Reason = rawReason;
  let limitedBy: Decision['limitedBy'];
  if (raw < current) {
    const stabilized = Math.max(
      ...inWindow(spec.scaleDown.stabilizationWindowSeconds).map((h) => h.replicas),
    );
    target = Math.min(current, stabilized);
    if (target >= current) {
      target = current;
      reason = Reason.Stabilizing;
    } else if (
      inp.lastScaleDownAt !== undefined &&
      now - inp.lastScaleDownAt < spec.scaleDown.periodSeconds * 1000
    ) {
      target = current;
      reason = Reason.Stabilizing;
    } else {
      const step = Math.max(
        spec.scaleDown.maxStepPods,
        Math.ceil((current * spec.scaleDown.maxStepPercent) / 100),
        1,
      );
      if (current - target > step) {
        target = current - step;
        limitedBy = 'scaleDownStep';
      }
    }
  } else if (raw > current) {
    const window = inWindow(spec.scaleUp.stabilizationWindowSeconds);
    target = Math.max(current, Math.min(...window.map((h) => h.replicas)));
    if (target === current) reason = Reason.Stabilizing;
    if (spec.scaleUp.maxStepPods > 0 && target - current > spec.scaleUp.maxStepPods) {
      target = current + spec.scaleUp.maxStepPods;
      limitedBy = 'scaleUpStep';
    }
  }

  // Bounds last: min and max always hold, even against a hold or a pre-scale.
  if (target > spec.maxReplicas) {
    target = spec.maxReplicas;
    limitedBy = 'maxReplicas';
  }
  if (target < spec.minReplicas) {
    target = spec.minReplicas;
    limitedBy = 'minReplicas';
  }
  if (limitedBy === 'maxReplicas' && target === current && raw > current) reason = Reason.AtMaximum;
  if (limitedBy === 'minReplicas' && target === current && raw < current) reason = Reason.AtMinimum;
  if (target === current && (reason === Reason.ScaledUp || reason === Reason.ScaledDown))
    reason = Reason.NoChange;
  if (target > current && reason !== Reason.PreScale && reason !== Reason.Fallback)
    reason = Reason.ScaledUp;
  if (target < current) reason = Reason.ScaledDown;

  const base = {
    recommendation,
    metricsAvailable: !anyMissing,
    limitedBy,
    consecutiveFailures: failures,
  };
  if (spec.paused) {
    return {
      ...base,
      replicas: current,
      recommendedReplicas: target,
      apply: false,
      reason: Reason.Paused,
      message: `paused; would set ${target} (${reason}): ${inputs}`,
    };
  }
  const why = reason === Reason.PreScale && inp.preScale ? `; ${inp.preScale.why}` : '';
  const message = `${reason}: ${current} -> ${target}; ${inputs}${why}${limitedBy ? `; limited by ${limitedBy}` : ''}`;
  if (spec.dryRun) {
    return {
      ...base,
      replicas: current,
      recommendedReplicas: target,
      apply: false,
      reason,
      message: `dry-run, not applied: ${message}`,
    };
  }
  return {
    ...base,
    replicas: target,
    recommendedReplicas: target,
    apply: target !== current,
    reason,
    message,
  };
}

/** Defaults of the spec's behaviour block; the CRD schema carries the same values. */
export const DEFAULT_SPEC: DecisionSpec = {
  minReplicas: 2,
  maxReplicas: 20,
  targetRpsPerReplica: 500,
  targetBacklogPerReplica: 5000,
  tolerance: 0.1,
  scaleUp: { stabilizationWindowSeconds: 0, maxStepPods: 0 },
  scaleDown: {
    stabilizationWindowSeconds: 120,
    maxStepPods: 2,
    maxStepPercent: 25,
    periodSeconds: 15,
  },
  paused: false,
  dryRun: false,
};
