// The one place that reads the environment. Every setting has a default, an env var, a one-line
// doc and, when it can hold a secret, a mark saying so; a bad value stops the process at start
// with a message naming the variable. `node dist/main.js --help` prints this table, the README's
// configuration table is checked against it, and the logger's redaction is derived from it.
import { z } from 'zod';

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');
const name = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - only');

/**
 * How a setting can be secret: `value` — the whole value (a token); `url` — the password part of a
 * URL (or of each URL in a comma-separated list).
 */
export type SecretKind = 'value' | 'url';

interface Setting {
  schema: z.ZodType;
  doc: string;
  secret?: SecretKind;
}

/** env var → schema with default, one-line doc, secret mark. The keys are the env var names. */
const settings = {
  PORT: {
    schema: int(0, 65535).default(8080),
    doc: 'HTTP port; 0 picks a free one (start() returns it).',
  },
  ROLE: {
    schema: z.enum(['api', 'worker', 'both']).default('both'),
    doc: 'api serves HTTP only, worker pulls from JetStream only, both does both.',
  },
  DATABASE_URL: {
    schema: z.string().url().default('postgres://postgres@127.0.0.1:5432/flashsale'),
    doc: 'Postgres connection URL (the truth: events and reservations).',
    secret: 'url',
  },
  DATABASE_POOL_SIZE: { schema: int(1, 200).default(10), doc: 'Postgres connections per process.' },
  REDIS_URL: {
    schema: z.string().url().default('redis://127.0.0.1:6379'),
    doc: 'Redis URL (the admission filter and decision cache).',
    secret: 'url',
  },
  REDIS_KEY_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_:-]{0,64}$/)
      .default(''),
    doc: 'Prefix of every Redis key (lets several deployments or tests share one Redis).',
  },
  NATS_URL: {
    schema: z.string().min(1).default('nats://127.0.0.1:4222'),
    doc: 'NATS server URL(s), comma separated.',
    secret: 'url',
  },
  STREAM_NAME: {
    schema: name.default('RESERVATIONS'),
    doc: 'JetStream stream holding accepted requests.',
  },
  SUBJECT_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/)
      .default('flashsale'),
    doc: 'Subject prefix: requests go to <prefix>.reservations.<eventId>, decisions to <prefix>.decisions.<eventId>.',
  },
  CONSUMER_NAME: {
    schema: name.default('reservation-worker'),
    doc: 'Durable pull consumer shared by all workers.',
  },
  STREAM_MAX_MESSAGES: {
    schema: int(1).default(5_000_000),
    doc: 'Stream limit; with discard-new a full stream refuses publishes (the API answers 503).',
  },
  STREAM_REPLICAS: {
    schema: int(1, 5).default(1),
    doc: 'JetStream replicas of the stream and its consumer (3 on a 3-node NATS cluster survives a node loss).',
  },
  STREAM_DUPLICATE_WINDOW_MS: {
    schema: int(100).default(120_000),
    doc: 'JetStream de-duplication window for the message id <eventId>:<userId>.',
  },
  BATCH_SIZE: {
    schema: int(1, 1000).default(200),
    doc: 'Most messages a worker decides in one batch.',
  },
  ACK_WAIT_MS: {
    schema: int(1000).default(5000),
    doc: 'Redelivery after this long without an ack (a killed worker loses no work); slow batches extend it.',
  },
  MAX_ACK_PENDING: {
    schema: int(1).default(5000),
    doc: 'Unacknowledged messages the consumer allows in total.',
  },
  NAK_DELAY_MS: {
    schema: int(0).default(500),
    doc: 'Delay before redelivery after a transient error.',
  },
  PUBLISH_TIMEOUT_MS: {
    schema: int(100).default(3000),
    doc: 'How long to wait for the JetStream publish ack before 503.',
  },
  RECONCILE_INTERVAL_MS: {
    schema: int(100).default(2000),
    doc: 'How often the reconciler compares Redis with Postgres.',
  },
  RECONCILE_GRACE_MS: {
    schema: int(0).default(60_000),
    doc: 'A Redis holder with no Postgres row is released only after this long (in-flight work must commit first).',
  },
  SOLD_OUT_CHECK_MS: {
    schema: int(0).default(200),
    doc: 'How long a "not sold out yet" answer from Postgres is reused by the fast path.',
  },
  EVENT_CACHE_MISS_MS: {
    schema: int(0).default(1000),
    doc: 'How long an unknown event id is remembered as unknown.',
  },
  WAIT_MAX_MS: {
    schema: int(0, 60_000).default(5000),
    doc: 'Upper bound of ?wait on POST reservations.',
  },
  RATE_LIMIT_IP_PER_SEC: {
    schema: int(0).default(2000),
    doc: 'Requests per second per client IP and pod; 0 turns it off (load tests from one address).',
  },
  RATE_LIMIT_IP_BURST: { schema: int(1).default(4000), doc: 'Burst allowance per client IP.' },
  RATE_LIMIT_USER_PER_SEC: {
    schema: int(0).default(5),
    doc: 'Reservation attempts per second per userId; 0 = off.',
  },
  RATE_LIMIT_USER_BURST: { schema: int(1).default(10), doc: 'Burst allowance per userId.' },
  TRUST_PROXY: {
    schema: bool.default(false),
    doc: 'Take the client IP from X-Forwarded-For (behind a proxy); Express then serves every request (ADR 37).',
  },
  BODY_LIMIT_BYTES: {
    schema: int(64, 1_048_576).default(4096),
    doc: 'Largest accepted JSON body.',
  },
  ADMIN_TOKEN: {
    schema: z.string().default(''),
    doc: 'Bearer token for admin calls (create event, audit); empty = admin calls always 401.',
    secret: 'value',
  },
  RESERVATION_TTL_SEC: {
    schema: int(60).default(7 * 24 * 3600),
    doc: 'How long Redis keeps a reservation status record.',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: int(0).default(20_000),
    doc: "Longest a graceful stop waits for in-flight work before it closes connections; the process exits at the latest 5 s later. A pod's terminationGracePeriodSeconds must exceed it by more than 5 s.",
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'pino log level; requests log at info (errors, 5xx) or debug (the rest).',
  },
} as const satisfies Record<string, Setting>;

type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const schema = z.object(
  Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, v.schema])) as {
    [K in keyof Settings]: Settings[K]['schema'];
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

/** One row of the configuration table (--help, README). */
export interface ConfigRow {
  env: keyof Config;
  /** The default as text; empty when there is none. */
  default: string;
  doc: string;
  secret: SecretKind | undefined;
}

const defaults = schema.parse({});

/** The configuration table: every setting, its default, its doc and its secret mark. */
export const configTable: readonly ConfigRow[] = (
  Object.entries(settings) as Array<[keyof Config, Setting]>
).map(([env, s]) => ({ env, default: String(defaults[env]), doc: s.doc, secret: s.secret }));

/** One line per setting (kept for callers that only want names and docs). */
export const configDocs: ReadonlyArray<{ env: string; doc: string }> = configTable.map((r) => ({
  env: r.env,
  doc: r.doc,
}));

const secretText = (s: SecretKind | undefined) =>
  s === 'value' ? 'yes' : s === 'url' ? 'password in URL' : '';

/** The README's configuration table, as Markdown (test/docs.test.ts keeps the README equal to it). */
export function configMarkdown(): string {
  const cell = (s: string) => s.replaceAll('|', '\\|');
  const lines = ['| env | default | secret | meaning |', '|---|---|---|---|'];
  for (const r of configTable) {
    const def = r.default === '' ? '(empty)' : `\`${r.default}\``;
    lines.push(`| \`${r.env}\` | ${def} | ${secretText(r.secret)} | ${cell(r.doc)} |`);
  }
  return lines.join('\n');
}

/** The text of `node dist/main.js --help`: usage and the whole configuration table. */
export function helpText(): string {
  const w = Math.max(...configTable.map((r) => r.env.length));
  const dw = Math.max(...configTable.map((r) => (r.default || '(empty)').length));
  const rows = configTable.map((r) => {
    const sec = r.secret ? ` [secret: ${secretText(r.secret)}]` : '';
    return `  ${r.env.padEnd(w)}  ${(r.default || '(empty)').padEnd(dw)}  ${r.doc}${sec}`;
  });
  return [
    'flashsale reservation service',
    '',
    'usage: node dist/main.js            run (ROLE=api|worker|both; SIGTERM stops gracefully)',
    '       node dist/main.js --help     print this help and exit',
    '',
    'Configuration (environment variables; empty counts as unset):',
    '',
    `  ${'ENV'.padEnd(w)}  ${'DEFAULT'.padEnd(dw)}  MEANING`,
    ...rows,
    '',
  ].join('\n');
}

/**
 * The secret strings of this config, to keep out of every log line: whole secret values, and the
 * password (as written and URL-decoded) of each secret URL.
 */
export function secretValues(config: Config): string[] {
  const out = new Set<string>();
  for (const r of configTable) {
    const v = String(config[r.env]);
    if (!r.secret || !v) continue;
    if (r.secret === 'value') out.add(v);
    else {
      for (const one of v.split(',')) {
        const m = /^[a-z][a-z0-9+.-]*:\/\/([^@/]*)@/i.exec(one.trim());
        const userinfo = m?.[1];
        if (!userinfo) continue;
        const colon = userinfo.indexOf(':');
        // user:password@ — the user name is not a secret (and is often a common word).
        const pw = colon >= 0 ? userinfo.slice(colon + 1) : '';
        if (!pw) continue;
        out.add(pw);
        try {
          out.add(decodeURIComponent(pw));
        } catch {
          /* not percent-encoded: the raw form is enough */
        }
      }
    }
  }
  return [...out];
}

/** Log paths whose value is redacted: the whole-value secrets under `config.` (startup line). */
export const redactedConfigPaths: readonly string[] = configTable
  .filter((r) => r.secret === 'value')
  .map((r) => `config.${r.env}`);
