import { useEffect, useRef, useState } from 'react';
import type { LiveState } from '../../src/api-types.js';
import { ApiError } from './api.js';
import type { Processed } from './processors.js';

export interface Live {
  state: LiveState | undefined;
  /** False while the stream is down (EventSource reconnects by itself). */
  connected: boolean;
}

/** The backend's live state over Server-Sent Events. */
export function useLiveState(): Live {
  const [state, setState] = useState<LiveState>();
  const [connected, setConnected] = useState(false);
  useEffect(() => {
    const es = new EventSource('/api/stream');
    es.addEventListener('state', (e) => {
      setState(JSON.parse((e as MessageEvent<string>).data) as LiveState);
      setConnected(true);
    });
    es.onerror = () => setConnected(false);
    return () => es.close();
  }, []);
  return { state, connected };
}

/** A ticking clock (ms), for countdowns between pushes. */
export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

export type ChartState<T> = { kind: 'loading' } | Processed<T>;

/**
 * Runs `fetcher` now and every `refreshMs`, passes each answer through `processor`, and keeps the
 * last good data on screen while a refresh is in flight. An ApiError becomes the error state.
 */
export function useChartData<Raw, T>(
  fetcher: (signal: AbortSignal) => Promise<Raw>,
  processor: (raw: Raw) => Processed<T>,
  refreshMs: number,
): ChartState<T> {
  const [out, setOut] = useState<ChartState<T>>({ kind: 'loading' });
  const proc = useRef(processor);
  proc.current = processor;
  useEffect(() => {
    const ac = new AbortController();
    const run = () => {
      fetcher(ac.signal).then(
        (raw) => {
          if (!ac.signal.aborted) setOut(proc.current(raw));
        },
        (err: unknown) => {
          if (ac.signal.aborted) return;
          const message = err instanceof ApiError ? err.message : String(err);
          setOut({ kind: 'error', message });
        },
      );
    };
    run();
    const t = setInterval(run, refreshMs);
    return () => {
      ac.abort();
      clearInterval(t);
    };
  }, [fetcher, refreshMs]);
  return out;
}
