import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReconcileReport } from './domain/model.js';

const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Every metric of one service instance, on its own registry (tests run several in one process). */
export class Metrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'flashsale_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'flashsale_http_request_duration_seconds',
    help: 'HTTP request latency by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly acceptDuration = new Histogram({
    name: 'flashsale_reservation_accept_duration_seconds',
    help: 'Time from request to the 202 answer (includes the JetStream publish ack).',
    buckets: latencyBuckets,
    registers: [this.registry],
  });
  readonly decisionLatency = new Histogram({
    name: 'flashsale_reservation_decision_latency_seconds',
    help: 'Time from the accept (202) to the durable decision.',
    buckets: [...latencyBuckets, 30, 60],
    registers: [this.registry],
  });
  readonly fastPath = new Counter({
    name: 'flashsale_reservation_requests_total',
    help: 'Reservation requests by how the API answered them (accepted = published, 202).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'flashsale_reservation_decisions_total',
    help: 'Decisions made by workers, by outcome (confirmed, rejected).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly batchSize = new Histogram({
    name: 'flashsale_worker_batch_size',
    help: 'Messages per decided batch.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });
  readonly messages = new Counter({
    name: 'flashsale_worker_messages_total',
    help: 'Messages handled by workers, by result (ack, nak, term).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly poison = new Counter({
    name: 'flashsale_worker_poison_messages_total',
    help: 'Messages terminated because they can never be processed, by reason.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly backlog = new Gauge({
    name: 'flashsale_queue_backlog',
    help: 'Messages waiting in the JetStream consumer (pending + unacknowledged).',
    registers: [this.registry],
  });
  readonly dependencyUp = new Gauge({
    name: 'flashsale_dependency_up',
    help: '1 when the dependency answered its last check, else 0.',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly publishFailures = new Counter({
    name: 'flashsale_publish_failures_total',
    help: 'Requests answered 503 because JetStream did not acknowledge the publish.',
    registers: [this.registry],
  });
  readonly redisRebuilds = new Counter({
    name: 'flashsale_redis_rebuilds_total',
    help: 'Times the Redis counters of an event were rebuilt from Postgres (Redis lost them).',
    registers: [this.registry],
  });
  readonly reconcileCorrections = new Counter({
    name: 'flashsale_reconcile_corrections_total',
    help: 'Redis holders added (from Postgres rows) or released (stale) by the reconciler.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly parserRefusals = new Counter({
    name: 'flashsale_http_parser_refusals_total',
    help: "Requests Node's HTTP parser refused before routing (answered from the clientError handler), by status.",
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly drift = new Gauge({
    name: 'flashsale_redis_drift',
    help: 'Redis remaining minus (capacity - sold - young in-flight holders), per recently active event.',
    labelNames: ['event_id'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'flashsale_process_' });
    // A labelled counter has no series until its first increment, and a rate over no series is an
    // empty answer, not 0: the operator reads "metric unavailable" and the dashboard "no data"
    // before the first click. The series that say "no traffic yet" exist from the start.
    this.httpRequests.inc(
      { route: '/v1/events/:id/reservations', method: 'POST', status: '202' },
      0,
    );
    for (const outcome of ['confirmed', 'rejected']) this.decisions.inc({ outcome }, 0);
  }

  /** The reconciler's reporting port, written to these metrics. */
  reconcileReport(): ReconcileReport {
    return {
      drift: (eventId, value) => this.drift.set({ event_id: eventId }, value),
      forget: (eventId) => this.drift.remove({ event_id: eventId }),
      rebuilt: () => this.redisRebuilds.inc(),
      corrected: (kind, count) => this.reconcileCorrections.inc({ kind }, count),
    };
  }
}
