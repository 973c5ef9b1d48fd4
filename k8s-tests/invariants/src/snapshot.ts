// What the stores hold about one sale once its queue has drained: the other side of the verdict.
// `readSnapshot` reads Postgres and Redis directly rather than through the service's audit, so a bug
// in the audit cannot hide a violation; callers that can only reach the audit endpoint (a cluster
// without a port-forward to Redis) build the Redis and queue parts with `fromAudit`.
import { Redis } from 'ioredis';
import pg from 'pg';

/** One row of `reservations`. */
export interface HolderRow {
  userId: string;
  reservationId: string;
}

/** The sale as Postgres, Redis and the queue hold it. `null` parts were not read. */
export interface Snapshot {
  eventId: string;
  /**
   * The event: its capacity, and what Postgres says is sold (the highest seat number in the
   * service's schema; the `sold` column in the classic one). null when Postgres has no such event.
   */
  event: { capacity: number; sold: number } | null;
  /** Every `reservations` row of the event. */
  rows: HolderRow[];
  /** Redis: `remaining` is null when Redis holds no counter; `holders` when they were read. */
  redis: { remaining: number | null; holders?: string[] } | null;
  /** Messages of the event still in the stream (pending or awaiting an ack). */
  queue: { pending: number } | null;
}

/** The part of a SQL client the reader uses (a `pg.Pool` or `pg.Client` fits). */
export interface SqlReader {
  query(text: string, values: unknown[]): Promise<{ rows: unknown[] }>;
}

/** The part of a Redis client the reader uses (an ioredis client fits). */
export interface RedisReader {
  get(key: string): Promise<string | null>;
  hkeys(key: string): Promise<string[]>;
}

// The service's key layout (services/reservation/src/adapters/redis.ts), repeated here on purpose:
// the checker reads the stores itself instead of trusting the service's code to report on itself.
const remainingKey = (prefix: string, eventId: string) => `${prefix}{evt:${eventId}}:remaining`;
const holdersKey = (prefix: string, eventId: string) => `${prefix}{evt:${eventId}}:holders`;

function toInt(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isInteger(n)) throw new Error(`snapshot: ${what} is not an integer: ${String(v)}`);
  return n;
}

/**
 * Reads one sale's snapshot: the event row and reservation rows from Postgres, the counter and
 * holders from Redis (when a client is given), and the queue figure the caller read elsewhere (the
 * audit's `pendingInQueue`; this package does not speak NATS).
 */
export async function readSnapshot(opts: {
  sql: SqlReader;
  redis?: RedisReader;
  redisKeyPrefix?: string;
  eventId: string;
  pendingInQueue?: number | null;
  /**
   * Where `sold` is kept: `seats` (the service: each row takes the next seat, sold is the highest)
   * or `column` (the classic design's `events.sold` counter, e.g. the bench's baseline).
   */
  soldFrom?: 'seats' | 'column';
}): Promise<Snapshot> {
  const ev = await opts.sql.query(
    opts.soldFrom === 'column'
      ? 'select capacity, sold from events where id = $1'
      : `select e.capacity,
                coalesce((select max(r.seat) from reservations r where r.event_id = e.id), 0) as sold
           from events e where e.id = $1`,
    [opts.eventId],
  );
  const e = ev.rows[0] as { capacity: unknown; sold: unknown } | undefined;
  const rows = await opts.sql.query(
    'select id::text as id, user_id from reservations where event_id = $1 order by user_id',
    [opts.eventId],
  );
  let redis: Snapshot['redis'] = null;
  if (opts.redis) {
    const prefix = opts.redisKeyPrefix ?? '';
    const remaining = await opts.redis.get(remainingKey(prefix, opts.eventId));
    const holders = await opts.redis.hkeys(holdersKey(prefix, opts.eventId));
    redis = {
      remaining: remaining === null ? null : toInt(remaining, 'Redis remaining'),
      holders: holders.sort(),
    };
  }
  return {
    eventId: opts.eventId,
    event: e ? { capacity: toInt(e.capacity, 'capacity'), sold: toInt(e.sold, 'sold') } : null,
    rows: (rows.rows as Array<{ id: string; user_id: string }>).map((r) => ({
      userId: r.user_id,
      reservationId: r.id,
    })),
    redis,
    queue: typeof opts.pendingInQueue === 'number' ? { pending: opts.pendingInQueue } : null,
  };
}

/** The Redis and queue parts of a snapshot from the service's audit answer (no holders there). */
export function fromAudit(audit: {
  remainingRedis?: unknown;
  pendingInQueue?: unknown;
}): Pick<Snapshot, 'redis' | 'queue'> {
  const remaining = audit.remainingRedis;
  const pending = audit.pendingInQueue;
  return {
    redis: typeof remaining === 'number' || remaining === null ? { remaining: remaining } : null,
    queue: typeof pending === 'number' ? { pending } : null,
  };
}

/** Clients for `readSnapshot` opened from URLs, and a way to close them. */
export interface Stores {
  sql: SqlReader;
  redis?: RedisReader;
  close(): Promise<void>;
}

/** Opens a Postgres client (and a Redis one when `redisUrl` is given) for reading snapshots. */
export async function openStores(opts: {
  databaseUrl: string;
  redisUrl?: string;
}): Promise<Stores> {
  const sql = new pg.Client({ connectionString: opts.databaseUrl });
  await sql.connect();
  if (!opts.redisUrl) return { sql, close: () => sql.end() };
  const redis = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
  try {
    await redis.connect();
  } catch (err) {
    await sql.end();
    throw new Error(`snapshot: cannot reach Redis at ${opts.redisUrl}`, { cause: err });
  }
  return {
    sql,
    redis,
    close: async () => {
      redis.disconnect();
      await sql.end();
    },
  };
}
