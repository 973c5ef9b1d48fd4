// Test helpers: each test file gets its own database, stream, consumer, subjects and Redis key
// prefix on the shared test-bed servers, and removes them afterwards.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import type { Config } from '../src/config.js';
import { start, type Service } from '../src/main.js';
import { migrate } from '../src/migrate.js';
import type { Audit } from '../src/domain/events.js';

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the test bed's global setup did not run`);
  return v;
}

export const ADMIN_TOKEN = 'test-admin-token';

export interface Servers {
  postgres: string;
  redis: string;
  nats: string;
}

/** The servers the test bed's global setup started for the whole run. */
export function sharedServers(): Servers {
  return {
    postgres: env('TESTBED_POSTGRES_URL'),
    redis: env('TESTBED_REDIS_URL'),
    nats: env('TESTBED_NATS_URL'),
  };
}
const rand = () => randomBytes(4).toString('hex');

/** A database, stream and key space of its own, and a way to start service processes on them. */
export class TestEnv {
  readonly id = rand();
  readonly dbName = `rsv_${this.id}`;
  readonly databaseUrl: string;
  readonly stream = `RSV_${this.id}`;
  readonly subjectPrefix = `t${this.id}`;
  readonly consumer = `w${this.id}`;
  readonly redisPrefix = `t${this.id}:`;
  readonly services: Service[] = [];
  readonly pg: pg.Pool;
  readonly redis: Redis;

  /** URLs of the servers to use: the shared test bed's unless given. */
  private constructor(readonly servers: Servers) {
    const u = new URL(this.servers.postgres);
    u.pathname = `/${this.dbName}`;
    this.databaseUrl = u.toString();
    this.pg = new pg.Pool({ connectionString: this.databaseUrl, max: 4 });
    this.pg.on('error', () => undefined);
    this.pg.on('connect', (c) => c.on('error', () => undefined));
    this.redis = new Redis(this.servers.redis, {
      lazyConnect: true,
      maxRetriesPerRequest: 3,
    });
    this.redis.on('error', () => undefined);
  }

  static async create(servers: Servers = sharedServers()): Promise<TestEnv> {
    const t = new TestEnv(servers);
    const admin = new pg.Client({ connectionString: t.servers.postgres });
    await admin.connect();
    try {
      await admin.query(`create database ${t.dbName}`);
    } finally {
      await admin.end();
    }
    await migrate(t.databaseUrl, pino({ level: 'silent' }));
    await t.redis.connect();
    return t;
  }

  config(overrides: Partial<Config> = {}): Partial<Config> {
    return {
      PORT: 0,
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.servers.redis,
      NATS_URL: this.servers.nats,
      STREAM_NAME: this.stream,
      SUBJECT_PREFIX: this.subjectPrefix,
      CONSUMER_NAME: this.consumer,
      REDIS_KEY_PREFIX: this.redisPrefix,
      ADMIN_TOKEN,
      LOG_LEVEL: (process.env.TEST_LOG_LEVEL as Config['LOG_LEVEL'] | undefined) ?? 'silent',
      RATE_LIMIT_IP_PER_SEC: 0,
      RATE_LIMIT_USER_PER_SEC: 0,
      ...overrides,
    };
  }

  async start(overrides: Partial<Config> = {}): Promise<Service & { url: string }> {
    const svc = await start(this.config(overrides));
    this.services.push(svc);
    return Object.assign(svc, { url: `http://127.0.0.1:${svc.port}` });
  }

  /** Messages in the stream (pending + unacknowledged). */
  async streamMessages(): Promise<number> {
    const nc = await connect({ servers: this.servers.nats });
    try {
      const jsm = await jetstreamManager(nc);
      return (await jsm.streams.info(this.stream)).state.messages;
    } finally {
      await nc.close();
    }
  }

  async counts(): Promise<{ events: number; reservations: number; sold: number }> {
    const { rows } = await this.pg.query<{ events: number; reservations: number; sold: number }>(
      `select (select count(*)::int from events) events,
              (select count(*)::int from reservations) reservations,
              (select coalesce(sum(sold), 0)::int from events) sold`,
    );
    return rows[0]!;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop().catch(() => undefined)));
    await this.pg.end().catch(() => undefined);
    const keys = await this.redis.keys(`${this.redisPrefix}*`).catch(() => [] as string[]);
    if (keys.length) await this.redis.del(...keys).catch(() => undefined);
    this.redis.disconnect();
    const nc = await connect({ servers: this.servers.nats }).catch(() => undefined);
    if (nc) {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(this.stream).catch(() => undefined);
      await nc.close();
    }
    const admin = new pg.Client({ connectionString: this.servers.postgres });
    await admin.connect();
    await admin.query(`drop database if exists ${this.dbName} with (force)`).catch(() => undefined);
    await admin.end();
  }
}

/** The value of the first sample matching `re` (one capture group) on a service's /metrics, 0 if none. */
export async function metric(url: string, re: RegExp): Promise<number> {
  return Number(re.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0);
}

/** The sum of `metric(url, re)` over several services. */
export async function metricSum(urls: string[], re: RegExp): Promise<number> {
  const values = await Promise.all(urls.map((u) => metric(u, re)));
  return values.reduce((a, b) => a + b, 0);
}

export interface HttpAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
  contentType: string;
}

/** JSON over HTTP (fetch keeps connections alive). */
export async function http<T = Record<string, unknown>>(
  url: string,
  init: {
    method?: string;
    body?: unknown;
    token?: string;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined && !headers['content-type'])
    headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (/json/.test(contentType)) body = text ? JSON.parse(text) : null;
  return { status: res.status, body: body as T, headers: res.headers, contentType };
}

export async function createEvent(
  base: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; capacity: number }> {
  const r = await http<{ id: string; capacity: number }>(`${base}/v1/events`, {
    body: { name: `sale ${rand()}`, capacity: 10, ...body },
    token: ADMIN_TOKEN,
  });
  if (r.status !== 201) throw new Error(`create event: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Runs tasks with at most `limit` in flight. */
export async function pool<T>(
  items: T[],
  limit: number,
  f: (item: T, i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await f(items[i]!, i);
      }
    }),
  );
}

/** The audit answer, as the domain defines it. */
export type AuditBody = Audit;

/** Polls the audit until the event's queue is drained and Redis agrees with Postgres. */
export async function drained(
  base: string,
  eventId: string,
  timeoutMs = 90_000,
): Promise<AuditBody> {
  const until = Date.now() + timeoutMs;
  let last: AuditBody | undefined;
  while (Date.now() < until) {
    const r = await http<AuditBody>(`${base}/v1/events/${eventId}/audit`, { token: ADMIN_TOKEN });
    if (r.status === 200) {
      last = r.body;
      if (last.pendingInQueue === 0 && last.drift === 0) return last;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`event ${eventId} did not drain: ${JSON.stringify(last)}`);
}

export interface Answer {
  userId: string;
  status: number;
  code?: string;
  reservationId?: string;
}

/**
 * Drives a sale: each user clicks once (plus `repeats` extra clicks), spread over the service
 * URLs with bounded concurrency; `fault` runs once `faultAfter` answers have come back.
 * Network errors are recorded as status 0.
 */
export async function runSale(opts: {
  urls: string[];
  eventId: string;
  users: number;
  repeats?: number;
  concurrency?: number;
  faultAfter?: number;
  fault?: () => Promise<void>;
}): Promise<Answer[]> {
  const users = Array.from({ length: opts.users }, (_, i) => `buyer-${i}`);
  const clicks = [...users];
  for (let i = 0; i < (opts.repeats ?? 0); i++) clicks.push(users[(i * 7919) % users.length]!);
  const answers: Answer[] = [];
  let faultRun: Promise<void> | undefined;
  await pool(clicks, opts.concurrency ?? 100, async (userId, i) => {
    if (opts.fault && !faultRun && answers.length >= (opts.faultAfter ?? 0))
      faultRun = opts.fault();
    try {
      const r = await http<{ code?: string; reservationId?: string }>(
        `${opts.urls[i % opts.urls.length]}/v1/events/${opts.eventId}/reservations`,
        { body: { userId } },
      );
      answers.push({
        userId,
        status: r.status,
        ...(r.body?.code ? { code: r.body.code } : {}),
        ...(r.body?.reservationId ? { reservationId: r.body.reservationId } : {}),
      });
    } catch {
      answers.push({ userId, status: 0 });
    }
  });
  await faultRun;
  return answers;
}

/**
 * Checks I1-I6 after the queue drained, from both sides: the audit and rows, and what each user
 * was told (a 202 must end confirmed or rejected; confirmed/already_reserved have a row; sold_out
 * has none). Returns the tally of answers.
 */
export async function checkInvariants(
  t: TestEnv,
  base: string,
  eventId: string,
  capacity: number,
  answers: Answer[],
): Promise<Record<string, number>> {
  const { reservationId } = await import('../src/ids.js');
  const audit = await drained(base, eventId, 120_000);
  const { rows } = await t.pg.query<{ user_id: string }>(
    'select user_id from reservations where event_id = $1',
    [eventId],
  );
  const holders = new Set(rows.map((r) => r.user_id));
  const accepted = [...new Set(answers.filter((a) => a.status === 202).map((a) => a.userId))];
  const distinctAccepted = accepted.length;
  const errors: string[] = [];
  // I1, I2, I6
  if (audit.sold > capacity || audit.reservations !== audit.sold || audit.oversold)
    errors.push(`I1 ${JSON.stringify(audit)}`);
  if (audit.duplicateHolders !== 0) errors.push('I2');
  if (audit.drift !== 0 || audit.remainingRedis !== capacity - audit.sold)
    errors.push(`I6 ${JSON.stringify(audit)}`);
  // I4: enough distinct users were accepted, so every seat must be sold.
  if (distinctAccepted >= capacity && audit.sold !== capacity)
    errors.push(`I4 sold ${audit.sold} of ${capacity} with ${distinctAccepted} accepted`);
  // I3 and I5
  const finals = new Map<string, string>();
  await pool(accepted, 50, async (u) => {
    const r = await http<{ status: string }>(
      `${base}/v1/reservations/${reservationId(eventId, u)}`,
    );
    finals.set(u, r.body.status);
  });
  for (const [u, f] of finals) {
    if (f !== 'confirmed' && f !== 'rejected') errors.push(`I3 ${u} is ${f}`);
    if ((f === 'confirmed') !== holders.has(u))
      errors.push(`I5 ${u} reads ${f}, row ${holders.has(u)}`);
  }
  for (const a of answers) {
    if (a.code === 'already_reserved' && !holders.has(a.userId))
      errors.push(`I5 ${a.userId} told already_reserved without a row`);
    if (a.code === 'sold_out' && holders.has(a.userId))
      errors.push(`I5 ${a.userId} told sold_out but holds a row`);
  }
  const tally: Record<string, number> = {};
  for (const a of answers) {
    const k = `${a.status}${a.code ? ` ${a.code}` : ''}`;
    tally[k] = (tally[k] ?? 0) + 1;
  }
  if (errors.length)
    throw new Error(
      `invariants violated:\n${errors.slice(0, 20).join('\n')}\ntally ${JSON.stringify(tally)}`,
    );
  return tally;
}

export interface Child {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  output: () => string;
}

/** Runs the service as its own process (node + tsx on src/main.ts), as Kubernetes would run it. */
export async function spawnService(t: TestEnv, overrides: Partial<Config> = {}): Promise<Child> {
  const { spawn } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const cfg = t.config({ LOG_LEVEL: 'info', ...overrides });
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [k, v] of Object.entries(cfg)) childEnv[k] = String(v);
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', main], {
    env: childEnv,
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) =>
    proc.on('exit', (code, sig) => r(code ?? sig ?? -1)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 60_000);
    const onData = () => {
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then((c) => reject(new Error(`service exited (${c}):\n${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid!, proc, exited, output: () => out };
}
