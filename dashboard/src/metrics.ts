import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The dashboard's own metrics, prefixed flashsale_dashboard_. */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'flashsale_dashboard_http_requests_total',
    help: 'HTTP requests answered, by route template, method and status.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly upstreamCalls = new Counter({
    name: 'flashsale_dashboard_upstream_calls_total',
    help: 'Calls to upstreams by upstream and result (ok or the error code).',
    labelNames: ['upstream', 'result'] as const,
    registers: [this.registry],
  });
  readonly upstreamUp = new Gauge({
    name: 'flashsale_dashboard_upstream_up',
    help: 'Whether the last call to each upstream succeeded (1) or not (0).',
    labelNames: ['upstream'] as const,
    registers: [this.registry],
  });
  readonly collectDuration = new Histogram({
    name: 'flashsale_dashboard_collect_duration_seconds',
    help: 'Time to gather one live state from every upstream.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [this.registry],
  });
  readonly streamClients = new Gauge({
    name: 'flashsale_dashboard_stream_clients',
    help: 'Open Server-Sent Events streams.',
    registers: [this.registry],
  });
  readonly loadTestsLaunched = new Counter({
    name: 'flashsale_dashboard_loadtests_launched_total',
    help: 'Load tests launched from the page.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'flashsale_dashboard_' });
  }
}
