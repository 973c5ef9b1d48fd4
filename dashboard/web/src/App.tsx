import { useCallback, useMemo } from 'react';
import type { Traffic, TrafficKey } from '../../src/api-types.js';
import { api } from './api.js';
import { ChartPanel, FetchedChart } from './components/Chart.js';
import { Feed } from './components/Feed.js';
import { Inventory } from './components/Inventory.js';
import { Launcher } from './components/Launcher.js';
import { Autoscaler, HealthStrip, Workloads } from './components/Status.js';
import { TimeChart } from './components/TimeChart.js';
import { formatBytes, formatMs, formatNumber, formatPercent, formatRate } from './format.js';
import { useLiveState } from './hooks.js';
import { latest, replicasProcessor, trafficProcessor } from './processors.js';

const MINUTES = 15;

/** One /api/traffic call shared by every traffic chart refreshing in the same couple of seconds. */
function sharedTrafficFetcher(): (signal: AbortSignal) => Promise<Traffic> {
  let last: { at: number; p: Promise<Traffic> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > 2000) last = { at: now, p: api.traffic(MINUTES) };
    return last.p;
  };
}

const TRAFFIC: Array<{
  key: TrafficKey;
  title: string;
  format: (v: number) => string;
  figure: string;
  stacked?: boolean;
}> = [
  { key: 'rps', title: 'Requests per second', format: formatRate, figure: 'requests/s' },
  { key: 'acceptLatency', title: 'Latency to 202 (accepted)', format: formatMs, figure: 'p95' },
  { key: 'decisionLatency', title: 'Latency to the decision', format: formatMs, figure: 'p95' },
  {
    key: 'outcomes',
    title: 'Outcomes per second',
    format: formatRate,
    figure: 'confirmed',
    stacked: true,
  },
  { key: 'errorRate', title: 'Error rate (5xx)', format: formatPercent, figure: 'errors' },
  { key: 'backlog', title: 'JetStream backlog', format: formatNumber, figure: 'backlog' },
  { key: 'cpu', title: 'CPU per pod (cores)', format: formatNumber, figure: '' },
  { key: 'memory', title: 'Memory per pod', format: formatBytes, figure: '' },
];

export function App() {
  const { state, connected } = useLiveState();
  const fetchTraffic = useMemo(sharedTrafficFetcher, []);
  const fetcher = useCallback((s: AbortSignal) => fetchTraffic(s), [fetchTraffic]);
  const replicas = state ? replicasProcessor(state) : ({ kind: 'loading' } as const);
  return (
    <>
      <a className="skip" href="#main">
        Skip to the dashboard
      </a>
      <header className="top">
        <h1>flashsale — live</h1>
        <p className="muted" aria-live="polite">
          {state ? `updated ${new Date(state.at).toLocaleTimeString('en-GB')}` : 'connecting…'}
        </p>
      </header>
      <HealthStrip health={state?.health} connected={connected} />
      <main id="main" className="grid">
        <ChartPanel
          id="replicas"
          title="Replicas over time"
          state={replicas}
          figure={(d) => (
            <>
              <span data-testid="replicas-ready">{formatNumber(latest(d.rows, 'ready'))}</span>{' '}
              ready of{' '}
              <span data-testid="replicas-desired">{formatNumber(latest(d.rows, 'desired'))}</span>
              {d.lastReason ? <span className="reason"> · {d.lastReason}</span> : null}
            </>
          )}
        >
          {(d) => (
            <TimeChart
              rows={d.rows}
              keys={d.keys}
              format={formatNumber}
              step
              label="Replicas of the reservation Deployment"
            />
          )}
        </ChartPanel>
        {TRAFFIC.map((c) => (
          <FetchedChart
            key={c.key}
            id={`chart-${c.key}`}
            title={c.title}
            fetcher={fetcher}
            processor={trafficProcessor(c.key)}
            figure={c.figure ? (d) => c.format(latest(d.rows, c.figure) ?? Number.NaN) : undefined}
          >
            {(d) => (
              <TimeChart
                rows={d.rows}
                keys={d.keys}
                format={c.format}
                stacked={c.stacked}
                label={c.title}
              />
            )}
          </FetchedChart>
        ))}
        <Inventory sales={state?.sales} />
        <Autoscaler section={state?.autoscaler} />
        <Feed feed={state?.feed} />
        <Workloads state={state} />
        <Launcher state={state} />
      </main>
    </>
  );
}
