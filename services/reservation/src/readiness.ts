// Readiness: the dependencies answer, the consumer is bound (worker role), and the process is not
// stopping. /readyz serves it; a timer refreshes the dependency_up gauge between probes.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Metrics } from './metrics.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

export interface ReadinessDeps {
  /** name → a call that resolves when the dependency answers. */
  dependencies: Record<string, () => Promise<unknown>>;
  /** The consumer is bound (absent on API-only processes). */
  consumerReady?: () => boolean;
  /** True once a graceful stop began: the pod leaves the Service's endpoints. */
  stopping: () => boolean;
  metrics: Pick<Metrics, 'dependencyUp'>;
  /** How long one dependency may take to answer before it counts as down. */
  timeoutMs?: number;
}

const within = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, sleep(ms).then(() => Promise.reject(new Error(`no answer within ${ms} ms`)))]);

/** Builds the readiness check. */
export function readinessCheck(d: ReadinessDeps): () => Promise<Readiness> {
  const timeout = d.timeoutMs ?? 1500;
  return async () => {
    const results = await Promise.all(
      Object.entries(d.dependencies).map(async ([name, f]) => {
        const ok = await within(f(), timeout).then(
          () => true,
          () => false,
        );
        d.metrics.dependencyUp.set({ dependency: name }, ok ? 1 : 0);
        return [name, ok] as const;
      }),
    );
    const checks: Record<string, boolean> = Object.fromEntries(results);
    if (d.consumerReady) checks.consumer = d.consumerReady();
    if (d.stopping()) checks.accepting = false;
    return { ready: Object.values(checks).every(Boolean), checks };
  };
}

/** Runs `check` every `ms` (unref'd) so the gauges stay fresh without probes; returns a stopper. */
export function refreshEvery(check: () => Promise<unknown>, ms: number): () => void {
  const timer = setInterval(() => void check().catch(() => undefined), ms);
  timer.unref();
  return () => clearInterval(timer);
}
