// The traffic charts as PromQL over the reservation pods' own metrics (names in
// services/reservation/README.md). Each chart is one or more range queries whose series are named
// for the legend; a failing query fails only its own chart.
import type { Section, Series, Traffic, TrafficKey } from './api-types.js';
import { TRAFFIC_KEYS } from './api-types.js';
import { asUpstreamError } from './upstreams/errors.js';
import type { Prometheus } from './upstreams/prometheus.js';

interface Query {
  promql: string;
  /** Legend name: fixed, or derived from the series' labels. */
  name: string | ((labels: Record<string, string>) => string);
}

const NOT_PROBES = 'route!~"/(healthz|readyz|metrics)"';
// The reservation service registers Node's default metrics under flashsale_process_; a plain
// prom-client default registry would name them process_*. Either is read.
const CPU = '__name__=~"flashsale_process_process_cpu_seconds_total|process_cpu_seconds_total"';
const RSS =
  '__name__=~"flashsale_process_process_resident_memory_bytes|process_resident_memory_bytes"';

/** The queries behind each chart, for a label selector and the label naming pods. */
export function trafficQueries(selector: string, podLabel: string): Record<TrafficKey, Query[]> {
  const sel = (extra = '') => `{${[selector, extra].filter(Boolean).join(',')}}`;
  const quantiles = (metric: string): Query[] =>
    (
      [
        ['p50', 0.5],
        ['p95', 0.95],
        ['p99', 0.99],
      ] as const
    ).map(([name, q]) => ({
      name,
      promql: `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket${sel()}[1m])))`,
    }));
  return {
    rps: [
      {
        name: 'requests/s',
        promql: `sum(rate(flashsale_http_requests_total${sel(NOT_PROBES)}[30s]))`,
      },
    ],
    acceptLatency: quantiles('flashsale_reservation_accept_duration_seconds'),
    decisionLatency: quantiles('flashsale_reservation_decision_latency_seconds'),
    errorRate: [
      {
        name: 'errors',
        // No 5xx series at all means no errors: 0, as long as there were requests (else no data).
        promql: `(sum(rate(flashsale_http_requests_total${sel(`status=~"5..",${NOT_PROBES}`)}[1m])) or vector(0)) / sum(rate(flashsale_http_requests_total${sel(NOT_PROBES)}[1m]))`,
      },
    ],
    backlog: [{ name: 'backlog', promql: `max(flashsale_queue_backlog${sel()})` }],
    outcomes: [
      {
        name: 'confirmed',
        promql: `sum(rate(flashsale_reservation_decisions_total${sel('outcome="confirmed"')}[1m]))`,
      },
      {
        name: 'sold out',
        promql: `sum(rate(flashsale_reservation_decisions_total${sel('outcome="rejected"')}[1m])) + (sum(rate(flashsale_reservation_requests_total${sel('outcome="sold_out"')}[1m])) or vector(0))`,
      },
      {
        name: 'already reserved',
        promql: `sum(rate(flashsale_reservation_requests_total${sel('outcome="already_reserved"')}[1m]))`,
      },
      {
        name: 'errors',
        promql: `sum(rate(flashsale_http_requests_total${sel(`status=~"5..",${NOT_PROBES}`)}[1m]))`,
      },
    ],
    cpu: [
      {
        name: (l) => l[podLabel] ?? 'pod',
        promql: `sum by (${podLabel}) (rate(${sel(CPU)}[1m]))`,
      },
    ],
    memory: [
      {
        name: (l) => l[podLabel] ?? 'pod',
        promql: `sum by (${podLabel}) (${sel(RSS)})`,
      },
    ],
  };
}

/** A step that gives about 120 points over the range, at least 1 s. */
export function stepFor(rangeSeconds: number): number {
  return Math.max(1, Math.round(rangeSeconds / 120));
}

/** Runs every chart's queries over [end - minutes, end]. */
export async function traffic(
  prom: Prometheus,
  queries: Record<TrafficKey, Query[]>,
  minutes: number,
  end = Date.now() / 1000,
): Promise<Traffic> {
  const start = Math.floor(end - minutes * 60);
  const step = stepFor(minutes * 60);
  const range = { start, end: Math.floor(end), step };
  const entries = await Promise.all(
    TRAFFIC_KEYS.map(async (key): Promise<[TrafficKey, Section<Series[]>]> => {
      try {
        const parts = await Promise.all(
          queries[key].map((q) =>
            prom.queryRange(
              q.promql,
              range,
              typeof q.name === 'string' ? () => q.name as string : q.name,
            ),
          ),
        );
        return [key, { ok: true, data: parts.flat() }];
      } catch (err) {
        return [key, { ok: false, error: asUpstreamError('prometheus', err).toSection() }];
      }
    }),
  );
  return { ...range, queries: Object.fromEntries(entries) as Traffic['queries'] };
}
