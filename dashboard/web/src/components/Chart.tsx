// A chart panel renders exactly one of four states — loading, error, no data, data — so no chart
// ever shows a blank box. FetchedChart adds the fetcher and the data processor.
import type { ReactNode } from 'react';
import type { ChartState } from '../hooks.js';
import { useChartData } from '../hooks.js';
import type { Processed } from '../processors.js';

export interface PanelProps<T> {
  id: string;
  title: string;
  state: ChartState<T>;
  /** The figure shown beside the title (the newest value), from the data. */
  figure?: (data: T) => ReactNode;
  children: (data: T) => ReactNode;
  className?: string;
}

/** A titled panel showing its state. */
export function ChartPanel<T>({ id, title, state, figure, children, className }: PanelProps<T>) {
  return (
    <section
      className={`panel ${className ?? ''}`}
      aria-labelledby={`${id}-title`}
      data-testid={id}
      data-state={state.kind}
    >
      <header className="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {state.kind === 'data' && figure ? <div className="figure">{figure(state)}</div> : null}
      </header>
      {state.kind === 'loading' ? (
        <p className="state state-loading" role="status">
          Loading…
        </p>
      ) : state.kind === 'error' ? (
        <p className="state state-error" role="alert">
          <strong>Unavailable.</strong> {state.message}
        </p>
      ) : state.kind === 'empty' ? (
        <p className="state state-empty">{state.message}</p>
      ) : (
        children(state)
      )}
    </section>
  );
}

export interface FetchedChartProps<Raw, T> extends Omit<PanelProps<T>, 'state'> {
  fetcher: (signal: AbortSignal) => Promise<Raw>;
  processor: (raw: Raw) => Processed<T>;
  refreshMs?: number;
}

/** A panel whose data comes from `fetcher` through `processor`, refreshed on a timer. */
export function FetchedChart<Raw, T>({
  fetcher,
  processor,
  refreshMs = 5000,
  ...rest
}: FetchedChartProps<Raw, T>) {
  const state = useChartData(fetcher, processor, refreshMs);
  return <ChartPanel {...rest} state={state} />;
}
