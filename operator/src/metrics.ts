// The operator's Prometheus metrics, all prefixed flashsale_operator_, on a registry of its own so
// two instances in one test process don't collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Creates the registry and every metric the operator records. */
export function createMetrics(opts: { defaults?: boolean } = {}) {
  const registry = new Registry();
  if (opts.defaults !== false)
    collectDefaultMetrics({ register: registry, prefix: 'flashsale_operator_' });
  const p = 'flashsale_operator_';
  const keyed = ['namespace', 'name'] as const;
  return {
    registry,
    isLeader: new Gauge({
      name: `${p}is_leader`,
      help: '1 while this instance holds the Lease.',
      registers: [registry],
    }),
    leaderTransitions: new Counter({
      name: `${p}leader_transitions_total`,
      help: 'Times this instance became leader.',
      registers: [registry],
    }),
    reconciles: new Counter({
      name: `${p}reconciles_total`,
      help: 'Reconciles by result.',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    reconcileDuration: new Histogram({
      name: `${p}reconcile_duration_seconds`,
      help: 'Time of one reconcile.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    decisions: new Counter({
      name: `${p}decisions_total`,
      help: 'Scaling decisions by reason.',
      labelNames: [...keyed, 'reason'] as const,
      registers: [registry],
    }),
    desiredReplicas: new Gauge({
      name: `${p}desired_replicas`,
      help: 'Replicas decided last.',
      labelNames: keyed,
      registers: [registry],
    }),
    observedRps: new Gauge({
      name: `${p}observed_rps`,
      help: 'RPS read last (absent when unavailable).',
      labelNames: keyed,
      registers: [registry],
    }),
    observedBacklog: new Gauge({
      name: `${p}observed_backlog`,
      help: 'Backlog read last (absent when unavailable).',
      labelNames: keyed,
      registers: [registry],
    }),
    signalUnavailable: new Counter({
      name: `${p}signal_unavailable_total`,
      help: 'Signal reads that gave no number.',
      labelNames: [...keyed, 'signal'] as const,
      registers: [registry],
    }),
    podRestarts: new Counter({
      name: `${p}pod_restarts_total`,
      help: 'Stuck pods deleted for replacement, by why.',
      labelNames: [...keyed, 'why'] as const,
      registers: [registry],
    }),
    outages: new Counter({
      name: `${p}remediation_outage_total`,
      help: 'Reconciles that found too many unhealthy pods to heal.',
      labelNames: keyed,
      registers: [registry],
    }),
    informerRestarts: new Counter({
      name: `${p}informer_restarts_total`,
      help: 'Informer restarts after a watch/list error.',
      labelNames: ['resource'] as const,
      registers: [registry],
    }),
  };
}
export type Metrics = ReturnType<typeof createMetrics>;
