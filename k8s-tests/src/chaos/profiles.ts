/** How big and how hostile a chaos run is. `full` is `make chaos-local`; `short` runs in `make test`. */
export interface Profile {
  name: 'full' | 'short';
  services: number;
  /** Tickets in all, split evenly over `waves` sales that open one after another during the run. */
  capacity: number;
  waves: number;
  distinctUsers: number;
  attempts: number;
  durationMs: number;
  /** Requests in flight at once, across all services. */
  concurrency: number;
  /** A random service process is killed (-9) about this often, and restarted after restartDelayMs. */
  killEveryMs: number;
  restartDelayMs: number;
  /** How long the system may take to settle every accepted request after the load. */
  drainTimeoutMs: number;
}

// A flash sale sells out within seconds of opening, so a single sale would meet every fault after
// it is over. Several sales open in waves instead, and each dependency fault strikes just after a
// wave opens, while tickets are being decided and committed.
export const PROFILES: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    services: 3,
    capacity: 1000,
    waves: 5,
    distinctUsers: 20_000,
    attempts: 50_000,
    durationMs: 60_000,
    concurrency: 96,
    killEveryMs: 5000,
    restartDelayMs: 1000,
    drainTimeoutMs: 120_000,
  },
  short: {
    name: 'short',
    services: 3,
    capacity: 200,
    waves: 4,
    distinctUsers: 4000,
    attempts: 8000,
    durationMs: 20_000,
    concurrency: 48,
    killEveryMs: 4000,
    restartDelayMs: 800,
    drainTimeoutMs: 90_000,
  },
};

/** When wave k opens, from the start of the load (the first one after a second of early clicks). */
export function waveOpensAtMs(p: Profile, k: number): number {
  return 1000 + (k * (p.durationMs - 1000)) / p.waves;
}

/** The tickets of each wave: the capacity split evenly, the last wave taking the remainder. */
export function waveCapacities(p: Profile): number[] {
  const perWave = Math.floor(p.capacity / p.waves);
  return Array.from({ length: p.waves }, (_, k) =>
    k === p.waves - 1 ? p.capacity - perWave * k : perWave,
  );
}

/** A sale of the run: its id and when (from the start of the load) it opens. */
export interface Sale {
  eventId: string;
  opensAtMs: number;
}

/**
 * The sale an attempt at `atMs` goes to: mostly the newest open one, one in ten (`random` below
 * 0.1) any sale — early clicks meet `sale_not_open`, late ones `sold_out`.
 */
export function pickSale(sales: Sale[], atMs: number, random = Math.random): Sale {
  if (random() < 0.1) return sales[Math.floor(random() * sales.length)] as Sale;
  const open = sales.filter((s) => s.opensAtMs <= atMs);
  return (open[open.length - 1] ?? sales[0]) as Sale;
}
