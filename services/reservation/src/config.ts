// The one place that reads the environment. Every setting has a default, an env var and a
// one-line doc; a bad value stops the process at start with a message naming the variable.
import { z } from 'zod';

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only');

/** env var → [schema with default, one-line doc]. The keys are the env var names. */
const settings = {
  PORT: [int(0, 65535).default(8080), 'HTTP port; 0 picks a free one (start() returns it).'],
  ROLE: [
    z.enum(['api', 'worker', 'both']).default('both'),
    'api serves HTTP only, worker pulls from JetStream only, both does both.',
  ],
  DATABASE_URL: [
    z.string().url().default('postgres://postgres@127.0.0.1:5432/flashsale'),
    'Postgres connection URL (the truth: events and reservations).',
  ],
  DATABASE_POOL_SIZE: [int(1, 200).default(10), 'Postgres connections per process.'],
  REDIS_URL: [
    z.string().url().default('redis://127.0.0.1:6379'),
    'Redis URL (the admission filter and decision cache).',
  ],
  REDIS_KEY_PREFIX: [
    z
      .string()
      .regex(/^[A-Za-z0-9_:-]{0,64}$/)
      .default(''),
    'Prefix of every Redis key (lets several deployments or tests share one Redis).',
  ],
  NATS_URL: [
    z.string().min(1).default('nats://127.0.0.1:4222'),
    'NATS server URL(s), comma separated.',
  ],
  STREAM_NAME: [name.default('RESERVATIONS'), 'JetStream stream holding accepted requests.'],
  SUBJECT_PREFIX: [
    z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
      .default('flashsale'),
    'Subject prefix: requests go to <prefix>.reservations.<eventId>, decisions to <prefix>.decisions.<eventId>.',
  ],
  CONSUMER_NAME: [
    name.default('reservation-worker'),
    'Durable pull consumer shared by all workers.',
  ],
  STREAM_MAX_MESSAGES: [
    int(1).default(5_000_000),
    'Stream limit; with discard-new a full stream refuses publishes (the API answers 503).',
  ],
  STREAM_REPLICAS: [
    int(1, 5).default(1),
    'JetStream replicas of the stream and its consumer (3 on a 3-node NATS cluster survives a node loss).',
  ],
  STREAM_DUPLICATE_WINDOW_MS: [
    int(100).default(120_000),
    'JetStream de-duplication window for the message id <eventId>:<userId>.',
  ],
  BATCH_SIZE: [int(1, 1000).default(200), 'Most messages a worker decides in one batch.'],
  ACK_WAIT_MS: [
    int(1000).default(5000),
    'Redelivery after this long without an ack (a killed worker loses no work); slow batches extend it.',
  ],
  MAX_ACK_PENDING: [int(1).default(5000), 'Unacknowledged messages the consumer allows in total.'],
  NAK_DELAY_MS: [int(0).default(500), 'Delay before redelivery after a transient error.'],
  PUBLISH_TIMEOUT_MS: [
    int(100).default(3000),
    'How long to wait for the JetStream publish ack before 503.',
  ],
  RECONCILE_INTERVAL_MS: [
    int(100).default(2000),
    'How often the reconciler compares Redis with Postgres.',
  ],
  RECONCILE_GRACE_MS: [
    int(0).default(60_000),
    'A Redis holder with no Postgres row is released only after this long (in-flight work must commit first).',
  ],
  SOLD_OUT_CHECK_MS: [
    int(0).default(200),
    'How long a "not sold out yet" answer from Postgres is reused by the fast path.',
  ],
  EVENT_CACHE_MISS_MS: [
    int(0).default(1000),
    'How long an unknown event id is remembered as unknown.',
  ],
  WAIT_MAX_MS: [int(0, 60_000).default(5000), 'Upper bound of ?wait on POST reservations.'],
  RATE_LIMIT_IP_PER_SEC: [
    int(0).default(2000),
    'Requests per second per client IP and pod; 0 turns it off (load tests from one address).',
  ],
  RATE_LIMIT_IP_BURST: [int(1).default(4000), 'Burst allowance per client IP.'],
  RATE_LIMIT_USER_PER_SEC: [
    int(0).default(5),
    'Reservation attempts per second per userId; 0 = off.',
  ],
  RATE_LIMIT_USER_BURST: [int(1).default(10), 'Burst allowance per userId.'],
  TRUST_PROXY: [bool.default(false), 'Take the client IP from X-Forwarded-For (behind a proxy).'],
  BODY_LIMIT_BYTES: [int(64, 1_048_576).default(4096), 'Largest accepted JSON body.'],
  ADMIN_TOKEN: [
    z.string().default(''),
    'Bearer token for admin calls (create event, audit); empty = admin calls always 401.',
  ],
  RESERVATION_TTL_SEC: [
    int(60).default(7 * 24 * 3600),
    'How long Redis keeps a reservation status record.',
  ],
  SHUTDOWN_TIMEOUT_MS: [
    int(0).default(20_000),
    'Longest a graceful stop may take before it forces.',
  ],
  LOG_LEVEL: [
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino log level; requests log at info (errors, 5xx) or debug (the rest).',
  ],
} as const;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K][0]> };

/** One line per setting, for --help and the README. */
export const configDocs: ReadonlyArray<{ env: string; doc: string }> = Object.entries(settings).map(
  ([env, [, doc]]) => ({ env, doc }),
);

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const schema = z.object(
  Object.fromEntries(Object.entries(settings).map(([k, [s]]) => [k, s])) as {
    [K in keyof Settings]: Settings[K][0];
  },
);

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
