// RPS from Prometheus. Every answer is checked the way KEDA's ExecutePromQuery should have been:
// a non-2xx, an error status, an empty vector, several series, NaN/Inf, a negative or stale sample
// and a timeout all give "unavailable" with the reason, never a number (an empty answer is not 0:
// a broken query must not scale a sale down to nothing).
import type { Signal } from '../decision.js';

export interface PromQueryOptions {
  /** Base URL of Prometheus, e.g. http://prometheus:9090. */
  address: string;
  query: string;
  timeoutMs: number;
  /** A sample older than this (by its own timestamp) is stale: the targets stopped reporting. */
  maxAgeMs: number;
  /** Injected clock for the staleness check. */
  now?: () => number;
}

interface VectorSample {
  metric?: unknown;
  value?: unknown;
}

function unavailable(reason: string): Signal {
  return { available: false, reason };
}

/** Runs an instant query and checks the answer; never throws. */
export async function queryScalar(o: PromQueryOptions): Promise<Signal> {
  // Relative, so a Prometheus served under a path prefix keeps it.
  const url = new URL('api/v1/query', o.address.endsWith('/') ? o.address : `${o.address}/`);
  url.searchParams.set('query', o.query);
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(o.timeoutMs) });
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError')
      return unavailable(`timeout after ${o.timeoutMs}ms`);
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : '';
    return unavailable(
      `unreachable: ${err instanceof Error ? err.message : String(err)}${cause ? ` (${cause})` : ''}`,
    );
  }
  let body: unknown;
  try {
    const text = await res.text();
    if (!res.ok) return unavailable(`http ${res.status}: ${text.slice(0, 200)}`);
    body = JSON.parse(text);
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
      return unavailable(`timeout after ${o.timeoutMs}ms`);
    return unavailable(`not JSON (http ${res.status})`);
  }
  const b = body as {
    status?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (b.status !== 'success') return unavailable(`status ${String(b.status)}: ${String(b.error)}`);
  const type = b.data?.resultType;
  if (type === 'scalar') return checkSample(b.data?.result, o);
  if (type !== 'vector') return unavailable(`result type ${String(type)}, want vector`);
  const result = b.data?.result;
  if (!Array.isArray(result)) return unavailable('result is not a list');
  if (result.length === 0) return unavailable('empty answer (no series)');
  if (result.length > 1)
    return unavailable(`${result.length} series, want 1 (aggregate with sum())`);
  return checkSample((result[0] as VectorSample).value, o);
}

function checkSample(value: unknown, o: PromQueryOptions): Signal {
  if (!Array.isArray(value) || value.length !== 2) return unavailable('malformed sample');
  const [ts, raw] = value as [unknown, unknown];
  if (typeof ts !== 'number' || typeof raw !== 'string') return unavailable('malformed sample');
  // Prometheus writes infinities as "+Inf"/"-Inf", which Number() reads as NaN.
  if (/^[+-]?Inf$/.test(raw)) return unavailable(`${raw} (infinite)`);
  const v = Number(raw);
  if (Number.isNaN(v)) return unavailable('NaN');
  if (!Number.isFinite(v)) return unavailable(`${raw} (infinite)`);
  if (v < 0) return unavailable(`negative value ${v}`);
  const age = (o.now ?? Date.now)() - ts * 1000;
  if (age > o.maxAgeMs) return unavailable(`stale sample (${Math.round(age / 1000)}s old)`);
  return { available: true, value: v };
}
