// Pre-scaling from the sale schedule: a flash sale goes from nothing to its peak in one second, at a
// time written in the event itself, so capacity is asked for a lead time before that second instead
// of after the first requests. Pure: the caller fetches the schedule and passes `now`.

/** One upcoming sale as the reservation service lists it (GET /v1/events). */
export interface Sale {
  id: string;
  name: string;
  capacity: number;
  /** Epoch milliseconds; sales without a start time are open already and not pre-scaled. */
  saleStartsAt: number;
}

/** A fixed window from the spec: at least `replicas` between `start` and `end` (epoch ms). */
export interface FixedWindow {
  start: number;
  end: number;
  replicas: number;
}

export interface PreScaleSpec {
  enabled: boolean;
  /** How long before a sale opens the replicas must be asked for (pod start-up plus margin). */
  leadSeconds: number;
  /** How long after the opening the floor stays; then the normal rules take over. */
  holdSeconds: number;
  /** Expected requests per second at the opening per ticket of capacity (the rush model). */
  expectedRpsPerTicket: number;
  /** Upper bound of the expected rush, whatever the capacity. */
  maxExpectedRps: number;
}

/**
 * Replicas the schedule asks for at `now`: the highest floor of every sale whose
 * [start - lead, start + hold] contains now, and of every fixed window containing now.
 */
export function preScaleFloor(
  now: number,
  sales: readonly Sale[],
  windows: readonly FixedWindow[],
  spec: PreScaleSpec,
  targetRpsPerReplica: number,
): { replicas: number; why: string } | undefined {
  let best: { replicas: number; why: string } | undefined;
  if (spec.enabled) {
    for (const s of sales) {
      const from = s.saleStartsAt - spec.leadSeconds * 1000;
      const to = s.saleStartsAt + spec.holdSeconds * 1000;
      if (now < from || now > to) continue;
      const rps = Math.min(spec.maxExpectedRps, s.capacity * spec.expectedRpsPerTicket);
      const replicas = Math.ceil(rps / targetRpsPerReplica);
      if (!best || replicas > best.replicas) {
        const secs = Math.round((s.saleStartsAt - now) / 1000);
        const when = secs >= 0 ? `opens in ${secs}s` : `opened ${-secs}s ago`;
        best = { replicas, why: `sale ${s.id} (${s.name}) ${when}, expected ${rps} rps` };
      }
    }
  }
  for (const w of windows) {
    if (now < w.start || now > w.end) continue;
    if (!best || w.replicas > best.replicas)
      best = { replicas: w.replicas, why: `fixed window until ${new Date(w.end).toISOString()}` };
  }
  return best;
}

/** Milliseconds until the next moment a floor starts (for scheduling a wake-up), if any. */
export function nextPreScaleAt(
  now: number,
  sales: readonly Sale[],
  windows: readonly FixedWindow[],
  spec: PreScaleSpec,
): number | undefined {
  const starts = [
    ...(spec.enabled ? sales.map((s) => s.saleStartsAt - spec.leadSeconds * 1000) : []),
    ...windows.map((w) => w.start),
    ...(spec.enabled ? sales.map((s) => s.saleStartsAt + spec.holdSeconds * 1000 + 1) : []),
    ...windows.map((w) => w.end + 1),
  ].filter((t) => t > now);
  return starts.length ? Math.min(...starts) - now : undefined;
}
