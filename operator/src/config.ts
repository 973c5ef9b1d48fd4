// The one place that reads the environment. Every setting has a default, an env var and a one-line
// doc; a bad value stops the process at start with a message naming the variable. `--help` prints
// the table (configHelp()).
import { hostname } from 'node:os';
import { z } from 'zod';

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const dns = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Kubernetes name');

/** env var → [schema with default, one-line doc]. The keys are the env var names. */
const settings = {
  PORT: [
    int(0, 65535).default(8080),
    'Port of /healthz, /readyz and /metrics; 0 picks a free one.',
  ],
  KUBECONFIG: [
    z.string().default(''),
    'Kubeconfig file; empty = the in-cluster ServiceAccount (or ~/.kube/config outside a cluster).',
  ],
  WATCH_NAMESPACE: [
    z.string().default(''),
    'Namespace whose ReservationAutoscalers are handled; empty = all namespaces (see OPERATOR_INSTANCE).',
  ],
  OPERATOR_INSTANCE: [
    z
      .string()
      .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'a label value')
      .default(''),
    "This operator's name in the flashsale.dev/operator label of the objects it owns; empty = LEASE_NAMESPACE.LEASE_NAME.",
  ],
  POD_NAME: [
    z.string().min(1).default(`${hostname()}-${process.pid}`),
    "This instance's identity in the Lease (the Downward API sets it to the pod name).",
  ],
  POD_UID: [
    z.string().default(''),
    "This instance's pod uid (the Downward API's metadata.uid): the Lease is owned by the pod that holds it, so it goes when the operator's pods go; empty = no owner.",
  ],
  LEASE_NAMESPACE: [dns.default('flashsale'), 'Namespace of the leader-election Lease.'],
  LEASE_NAME: [dns.default('flashsale-operator'), 'Name of the leader-election Lease.'],
  LEASE_DURATION_MS: [
    int(1000).default(15_000),
    "How long a leader's Lease holds without renewal; failover happens within it.",
  ],
  LEASE_RENEW_DEADLINE_MS: [
    int(500).default(10_000),
    'A leader that could not renew for this long stops acting (must be < LEASE_DURATION_MS).',
  ],
  LEASE_RETRY_MS: [int(100).default(2000), 'How often the Lease is renewed or tried.'],
  SYNC_PERIOD_MS: [
    int(200).default(2000),
    'Decision loop per ReservationAutoscaler: RPS, backlog and schedule are read this often.',
  ],
  BACKLOG_PROBE_MS: [
    int(100).default(500),
    'Between decisions the backlog is probed this often; a jump above target wakes the loop early.',
  ],
  PROMETHEUS_TIMEOUT_MS: [int(100).default(2000), 'Timeout of one Prometheus query.'],
  PROMETHEUS_MAX_AGE_MS: [
    int(1000).default(30_000),
    'A Prometheus sample older than this is stale, i.e. unavailable.',
  ],
  NATS_TIMEOUT_MS: [int(100).default(2000), 'Timeout of one JetStream consumer-info request.'],
  SCHEDULE_REFRESH_MS: [
    int(1000).default(10_000),
    'How often the sale schedule (GET /v1/events) is read again.',
  ],
  SCHEDULE_TIMEOUT_MS: [int(100).default(3000), 'Timeout of one schedule read.'],
  SHUTDOWN_TIMEOUT_MS: [int(0).default(10_000), 'Longest a graceful stop may take.'],
  LOG_LEVEL: [
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino log level.',
  ],
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K][0]> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const schema = z
  .object(
    Object.fromEntries(Object.entries(settings).map(([k, [s]]) => [k, s])) as {
      [K in keyof Settings]: Settings[K][0];
    },
  )
  .refine((c) => c.LEASE_RENEW_DEADLINE_MS < c.LEASE_DURATION_MS, {
    message: 'must be less than LEASE_DURATION_MS',
    path: ['LEASE_RENEW_DEADLINE_MS'],
  });

/** The settings table: env, default, doc (for --help and the README). */
export function configHelp(): string {
  const rows = Object.entries(settings).map(([env, [s, doc]]) => {
    const def = (s as z.ZodType).safeParse(undefined);
    return `  ${env.padEnd(24)} ${JSON.stringify(def.success ? def.data : '').padEnd(22)} ${doc}`;
  });
  return ['flashsale operator: settings (environment variables)', ...rows].join('\n');
}

/**
 * Builds the config from an env-like record (default: process.env) plus overrides (tests).
 * Empty strings count as unset. Throws ConfigError listing every bad variable.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: Partial<Config> = {},
): Config {
  const input: Record<string, unknown> = {};
  for (const key of Object.keys(settings)) {
    const v = env[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return { ...(parsed.data as Config), ...overrides };
}
