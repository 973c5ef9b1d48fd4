/** How big and how hostile a chaos run is. `full` is `make chaos-local`; `short` runs in `make test`. */
export interface Profile {
  name: 'full' | 'short';
  services: number;
  capacity: number;
  distinctUsers: number;
  attempts: number;
  durationMs: number;
  /** Requests in flight at once, across all services. */
  concurrency: number;
  /** A random service process is killed (-9) this often, and restarted after restartDelayMs. */
  killEveryMs: number;
  restartDelayMs: number;
  /** When, from the start of the load, each dependency is restarted once. */
  redisWipeAtMs: number;
  natsRestartAtMs: number;
  postgresRestartAtMs: number;
  /** How long the system may take to settle every accepted request after the load. */
  drainTimeoutMs: number;
}

export const PROFILES: Record<Profile['name'], Profile> = {
  full: {
    name: 'full',
    services: 3,
    capacity: 1000,
    distinctUsers: 20_000,
    attempts: 50_000,
    durationMs: 60_000,
    concurrency: 96,
    killEveryMs: 5000,
    restartDelayMs: 1000,
    redisWipeAtMs: 15_000,
    natsRestartAtMs: 30_000,
    postgresRestartAtMs: 45_000,
    drainTimeoutMs: 120_000,
  },
  short: {
    name: 'short',
    services: 3,
    capacity: 200,
    distinctUsers: 4000,
    attempts: 8000,
    durationMs: 20_000,
    concurrency: 48,
    killEveryMs: 4000,
    restartDelayMs: 800,
    redisWipeAtMs: 5000,
    natsRestartAtMs: 10_000,
    postgresRestartAtMs: 15_000,
    drainTimeoutMs: 90_000,
  },
};
