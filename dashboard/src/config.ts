// The one place that reads the environment. Every setting has a default, an env var and a
// one-line doc; secrets are marked so the logger's redaction list is derived from this table.
// A bad value stops the process at start with a message naming the variable.
import { z } from 'zod';

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max);
const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'an http:// or https:// URL');
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Kubernetes name');

interface Setting {
  schema: z.ZodType;
  doc: string;
  secret?: boolean;
}
const s = <T extends z.ZodType>(schema: T, doc: string, secret = false) => ({
  schema,
  doc,
  secret,
});

/** env var → schema with default, one-line doc, secret or not. */
const settings = {
  PORT: s(int(0, 65535).default(8080), 'HTTP port; 0 picks a free one (start() returns it).'),
  HOST: s(z.string().min(1).default('0.0.0.0'), 'Address to listen on.'),
  LOG_LEVEL: s(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    'pino log level.',
  ),
  NAMESPACE: s(
    k8sName.default('flashsale'),
    'Namespace whose Deployments, pods, Events and autoscalers are shown (and where load tests run).',
  ),
  KUBECONFIG: s(
    z.string().default(''),
    'Kubeconfig file; empty = the in-cluster service account when running in a pod, else ~/.kube/config.',
  ),
  KUBERNETES_SERVICE_HOST: s(
    z.string().default(''),
    'Set by Kubernetes inside a pod; selects the in-cluster config when KUBECONFIG is empty.',
  ),
  KUBE_TIMEOUT_MS: s(int(100, 60_000).default(3000), 'Longest wait for one Kubernetes API call.'),
  RESERVATION_DEPLOYMENT: s(
    k8sName.default('reservation'),
    'The reservation Deployment (replicas chart, autoscaler target).',
  ),
  PROMETHEUS_URL: s(
    httpUrl.default('http://prometheus:9090'),
    'Prometheus base URL, sub-path included (e.g. http://host/prometheus); user:password@ is basic auth.',
  ),
  PROMETHEUS_BEARER_TOKEN: s(
    z.string().default(''),
    'Bearer token sent to Prometheus (empty = none).',
    true,
  ),
  PROMETHEUS_TIMEOUT_MS: s(
    int(100, 60_000).default(3000),
    'Longest wait for one Prometheus query.',
  ),
  PROMETHEUS_SELECTOR: s(
    z
      .string()
      .regex(
        /^[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"[^"]*"(\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"[^"]*")*$|^$/,
        'PromQL label matchers, e.g. job="reservation"',
      )
      .default('job="reservation"'),
    "Label matchers that pick the reservation pods' series in Prometheus.",
  ),
  PROMETHEUS_POD_LABEL: s(
    z
      .string()
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/)
      .default('pod'),
    'Label that names the pod on the reservation series (per-pod CPU and memory).',
  ),
  RESERVATION_URL: s(
    httpUrl.default('http://reservation:80'),
    'Reservation service base URL (events, audit, readiness of Postgres/Redis/NATS).',
  ),
  RESERVATION_TIMEOUT_MS: s(
    int(100, 60_000).default(3000),
    'Longest wait for one reservation call.',
  ),
  ADMIN_TOKEN: s(
    z.string().default(''),
    'The reservation service admin token: read the audit, and the token the page must send to create a sale or launch a load test; empty = admin actions off.',
    true,
  ),
  STREAM_INTERVAL_MS: s(
    int(1000, 2000).default(1500),
    'How often the live state is pushed over SSE.',
  ),
  SALES_LIMIT: s(int(1, 100).default(12), 'Most recent sales shown with their inventory.'),
  K6_IMAGE: s(z.string().min(1).default('flashsale/k6:dev'), 'Image of the load-test Job.'),
  K6_SCRIPT_CONFIGMAP: s(
    k8sName.default('flashsale-k6-scripts'),
    'ConfigMap holding the k6 scripts (mounted at /scripts).',
  ),
  K6_SCRIPT_KEY: s(
    z
      .string()
      .regex(/^[-._a-zA-Z0-9]+$/)
      .default('rush.js'),
    'Key of the script in that ConfigMap.',
  ),
  K6_TARGET_URL: s(
    z.union([httpUrl, z.literal('')]).default(''),
    'Base URL the k6 Job sends load to; empty = RESERVATION_URL.',
  ),
  K6_MAX_VUS: s(
    int(1, 100_000).default(2000),
    'Most virtual users a launched load test may ask for.',
  ),
  K6_MAX_DURATION_S: s(int(5, 3600).default(300), 'Longest load test that may be launched.'),
  STATIC_DIR: s(
    z.string().default(''),
    'Folder of the built page; empty = dist/public next to the server.',
  ),
} satisfies Record<string, Setting>;

type Settings = typeof settings;
/** The validated configuration. */
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };

/** The documentation of every setting, for --help and the README. */
export const configDocs: ReadonlyArray<{ env: string; doc: string; secret: boolean }> =
  Object.entries(settings).map(([env, v]) => ({ env, doc: v.doc, secret: v.secret ?? false }));

/** Names of the settings that hold secrets (redacted from logs). */
export const secretSettings: readonly string[] = configDocs
  .filter((d) => d.secret)
  .map((d) => d.env);

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

/** The text `--help` prints: every setting with its default and doc. */
export function helpText(): string {
  const defaults = schema.parse({}) as Record<string, unknown>;
  const rows = configDocs.map(
    (d) =>
      `  ${d.env.padEnd(24)} ${d.doc}${d.secret ? ' (secret)' : ''}\n  ${' '.repeat(24)} default: ${JSON.stringify(defaults[d.env])}`,
  );
  return [
    'flashsale dashboard: node dist/main.js [--help]',
    '',
    'Configured by environment variables:',
    ...rows,
    '',
  ].join('\n');
}
