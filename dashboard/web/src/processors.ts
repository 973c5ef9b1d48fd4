// Data processors: pure functions from what the backend answered to what a chart draws, with the
// empty and error cases made explicit. Each chart component is given one of these.
import type {
  LiveState,
  ReplicaPoint,
  SaleInventory,
  Series,
  Traffic,
  TrafficKey,
} from '../../src/api-types.js';

/** One x position of a chart: time in ms and a value per series key. */
export type Row = { t: number } & Record<string, number | null>;

/** What a chart renders: an error to show, nothing to show, or rows with their series keys. */
export type Processed<T = { rows: Row[]; keys: string[] }> =
  { kind: 'error'; message: string } | { kind: 'empty'; message: string } | ({ kind: 'data' } & T);

/**
 * Merges series into rows by timestamp (seconds → ms), scaling each value; a series missing at a
 * time is null there, so lines show gaps rather than made-up zeros.
 */
export function seriesToRows(series: Series[], scale = 1): { rows: Row[]; keys: string[] } {
  const keys: string[] = [];
  const byT = new Map<number, Row>();
  for (const s of series) {
    let key = s.name;
    for (let n = 2; keys.includes(key); n++) key = `${s.name} (${n})`;
    keys.push(key);
    for (const [t, v] of s.points) {
      const ms = t * 1000;
      let row = byT.get(ms);
      if (!row) {
        row = { t: ms } as Row;
        byT.set(ms, row);
      }
      row[key] = v === null ? null : v * scale;
    }
  }
  const rows = [...byT.values()].sort((a, b) => a.t - b.t);
  for (const r of rows) for (const k of keys) if (!(k in r)) r[k] = null;
  return { rows, keys };
}

const SCALE: Partial<Record<TrafficKey, number>> = {
  acceptLatency: 1000,
  decisionLatency: 1000,
};

/** The processor of one traffic chart: its section of /api/traffic, latencies in ms. */
export function trafficProcessor(key: TrafficKey): (t: Traffic) => Processed {
  return (t) => {
    const q = t.queries[key];
    if (!q.ok) return { kind: 'error', message: q.error.message };
    const { rows, keys } = seriesToRows(q.data, SCALE[key] ?? 1);
    const hasValue = rows.some((r) => keys.some((k) => r[k] !== null));
    if (!keys.length || !hasValue)
      return { kind: 'empty', message: 'no data yet in this time range' };
    return { kind: 'data', rows, keys };
  };
}

/** The newest non-null value of a key, for the figure beside a chart. */
export function latest(rows: Row[], key: string): number | null {
  for (let i = rows.length - 1; i >= 0; i--) {
    const v = rows[i]![key];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** Replicas over time from the backend's history: desired, ready and the autoscaler's wish. */
export function replicasProcessor(
  state: Pick<LiveState, 'replicas' | 'deployments'>,
): Processed<{ rows: Row[]; keys: string[]; lastReason: string | null }> {
  if (!state.deployments.ok && state.replicas.every((p) => p.desired === null))
    return { kind: 'error', message: state.deployments.error.message };
  const points: ReplicaPoint[] = state.replicas.filter(
    (p) => p.desired !== null || p.ready !== null,
  );
  if (!points.length) return { kind: 'empty', message: 'the reservation Deployment was not found' };
  const withScaler = points.some((p) => p.autoscalerDesired !== null);
  const keys = ['desired', 'ready', ...(withScaler ? ['autoscaler'] : [])];
  const rows = points.map((p) => {
    const r: Row = { t: p.t, desired: p.desired, ready: p.ready };
    if (withScaler) r.autoscaler = p.autoscalerDesired;
    return r;
  });
  const lastReason = [...points].reverse().find((p) => p.reason)?.reason ?? null;
  return { kind: 'data', rows, keys, lastReason };
}

export interface InventoryBar {
  id: string;
  name: string;
  state: string;
  capacity: number;
  sold: number;
  pending: number;
  remaining: number;
  /** Shares of the capacity, 0..1, for the bar's segments. */
  soldShare: number;
  pendingShare: number;
  /** Seconds until the sale opens (null: no start time, or already open). */
  opensIn: number | null;
  oversold: boolean | null;
  drift: number | null;
}

/**
 * Inventory bars per sale, with the countdown to each start. Pending requests are drawn beside
 * sold ones but never beyond the capacity: they may still be rejected.
 */
export function inventoryProcessor(
  sales: LiveState['sales'],
  now: number,
): Processed<{ bars: InventoryBar[] }> {
  if (!sales.ok) return { kind: 'error', message: sales.error.message };
  if (!sales.data.length) return { kind: 'empty', message: 'no sales yet: create one below' };
  const bars = sales.data.map((s: SaleInventory): InventoryBar => {
    const cap = Math.max(1, s.capacity);
    const pending = Math.min(s.pending ?? 0, Math.max(0, s.capacity - s.sold));
    const start = s.saleStartsAt ? Date.parse(s.saleStartsAt) : NaN;
    return {
      id: s.id,
      name: s.name,
      state: s.state,
      capacity: s.capacity,
      sold: s.sold,
      pending,
      remaining: s.remaining,
      soldShare: Math.min(1, s.sold / cap),
      pendingShare: pending / cap,
      opensIn: Number.isFinite(start) && start > now ? (start - now) / 1000 : null,
      oversold: s.oversold,
      drift: s.drift,
    };
  });
  return { kind: 'data', bars };
}
