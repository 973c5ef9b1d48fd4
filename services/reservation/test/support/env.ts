// Each test file gets its own database, stream, consumer, subjects and Redis key prefix on the
// shared test-bed servers, and removes them afterwards.
import { randomBytes } from 'node:crypto';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import type { Config } from '../../src/config.js';
import { start, type Service } from '../../src/main.js';
import { migrate } from '../../src/migrate.js';

/** A variable the test bed's global setup exported; throws when it is missing. */
export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the test bed's global setup did not run`);
  return v;
}

/** The admin token every service the tests start is given. */
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
/** A short random id for names of the test's own. */
export const rand = () => randomBytes(4).toString('hex');

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

  /** The service configuration on this environment's servers and names. */
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

  /** Starts a service in this process (stopped by cleanup). */
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

  /** Rows in the database: events, reservations, and tickets sold in all. */
  async counts(): Promise<{ events: number; reservations: number; sold: number }> {
    const { rows } = await this.pg.query<{ events: number; reservations: number; sold: number }>(
      `select (select count(*)::int from events) events,
              (select count(*)::int from reservations) reservations,
              (select coalesce(sum(s), 0)::int
                 from (select max(seat) s from reservations group by event_id) m) sold`,
    );
    return rows[0]!;
  }

  /** Stops the services and removes the database, stream and keys. */
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
