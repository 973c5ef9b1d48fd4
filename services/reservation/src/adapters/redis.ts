import { Redis } from 'ioredis';
import type {
  AdmissionFilter,
  AdmitResult,
  ReconcileResult,
  ReservationRecord,
  ReservationStatus,
} from '../domain/model.js';
import { dependencyCall } from '../errors.js';

// Keys of one event share the hash tag {evt:<id>}, so the scripts stay valid on a Redis Cluster.
const remainingKey = (id: string) => `{evt:${id}}:remaining`;
const holdersKey = (id: string) => `{evt:${id}}:holders`;
const recordKey = (rid: string) => `res:${rid}`;

/**
 * The decision script. KEYS: remaining, holders (hash user -> ms of the last decision).
 * ARGV: now, number of users to adopt, the adopted users, then the users to decide.
 * Returns -1 when the counters are missing (Redis lost them), else per decided user:
 * 0 won (stock taken), 1 already a holder (refreshed), 2 sold out.
 */
const ADMIT = `
local rem = redis.call('GET', KEYS[1])
if not rem then return -1 end
rem = tonumber(rem)
local now = ARGV[1]
local nAdopt = tonumber(ARGV[2])
for i = 3, 2 + nAdopt do
  if redis.call('HSETNX', KEYS[2], ARGV[i], now) == 1 then rem = rem - 1 end
end
local out = {}
for i = 3 + nAdopt, #ARGV do
  local u = ARGV[i]
  if redis.call('HEXISTS', KEYS[2], u) == 1 then
    redis.call('HSET', KEYS[2], u, now)
    out[#out + 1] = 1
  elseif rem > 0 then
    rem = rem - 1
    redis.call('HSET', KEYS[2], u, now)
    out[#out + 1] = 0
  else
    out[#out + 1] = 2
  end
end
if rem < 0 then rem = 0 end
redis.call('SET', KEYS[1], rem)
return out
`;

/**
 * Aligns Redis with a Postgres snapshot. KEYS: remaining, holders. ARGV: capacity, now, grace ms,
 * then every user holding a row. Holders with a row are adopted; holders without one older than
 * the grace period are released (younger ones may be in flight); remaining = capacity - holders.
 * Returns {rebuilt, added, released, remaining, young}.
 */
const RECONCILE = `
local cap = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local grace = tonumber(ARGV[3])
local rebuilt = 0
if redis.call('EXISTS', KEYS[1]) == 0 then rebuilt = 1 end
local pg = {}
local added = 0
for i = 4, #ARGV do
  pg[ARGV[i]] = true
  if redis.call('HSETNX', KEYS[2], ARGV[i], now) == 1 then added = added + 1 end
end
local released, young = 0, 0
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  local u = all[i]
  if not pg[u] then
    if now - tonumber(all[i + 1]) > grace then
      redis.call('HDEL', KEYS[2], u)
      released = released + 1
    else
      young = young + 1
    end
  end
end
local rem = cap - redis.call('HLEN', KEYS[2])
if rem < 0 then rem = 0 end
redis.call('SET', KEYS[1], rem)
if rebuilt == 1 then added = 0 end
return {rebuilt, added, released, rem, young}
`;

/** KEYS: record. ARGV: eventId, userId, acceptedAt, ttl sec. Never overwrites a decision. */
const RECORD_ACCEPTED = `
redis.call('HSETNX', KEYS[1], 'status', 'pending')
redis.call('HSETNX', KEYS[1], 'eventId', ARGV[1])
redis.call('HSETNX', KEYS[1], 'userId', ARGV[2])
redis.call('HSETNX', KEYS[1], 'acceptedAt', ARGV[3])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[4]))
return 1
`;

interface Scripts {
  fsAdmit(
    remaining: string,
    holders: string,
    ...argv: Array<string | number>
  ): Promise<number | number[]>;
  fsReconcile(
    remaining: string,
    holders: string,
    ...argv: Array<string | number>
  ): Promise<number[]>;
  fsRecordAccepted(record: string, ...argv: Array<string | number>): Promise<number>;
}

const CODES: AdmitResult[] = ['won', 'holder', 'sold_out'];

export function createRedis(url: string, keyPrefix: string): Redis {
  const redis = new Redis(url, {
    keyPrefix,
    // Fail a command quickly when Redis is away; callers nak or skip the shortcut.
    maxRetriesPerRequest: 2,
    commandTimeout: 3000,
    lazyConnect: true,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  // ioredis emits errors while it reconnects; readiness reports them instead.
  redis.on('error', () => undefined);
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
  redis.defineCommand('fsAdmit', { numberOfKeys: 2, lua: ADMIT });
  redis.defineCommand('fsReconcile', { numberOfKeys: 2, lua: RECONCILE });
  redis.defineCommand('fsRecordAccepted', { numberOfKeys: 1, lua: RECORD_ACCEPTED });
  return redis;
}

function toRecord(rid: string, h: Record<string, string>): ReservationRecord | null {
  if (!h.status || !h.eventId || !h.userId) return null;
  return {
    reservationId: rid,
    eventId: h.eventId,
    userId: h.userId,
    status: h.status as ReservationStatus,
    ...(h.reason === 'sold_out' ? { reason: 'sold_out' as const } : {}),
    ...(h.acceptedAt ? { acceptedAt: Number(h.acceptedAt) } : {}),
  };
}

/** The Redis adapter: admission decisions (Lua, atomic per event) and request records. */
export class RedisAdmission implements AdmissionFilter {
  private readonly scripts: Scripts;

  constructor(
    private readonly redis: Redis,
    private readonly recordTtlSec: number,
  ) {
    this.scripts = redis as unknown as Scripts;
  }

  admit(
    eventId: string,
    users: string[],
    adopt: string[],
    nowMs: number,
  ): Promise<AdmitResult[] | null> {
    return dependencyCall('redis', 'admit', async () => {
      if (!users.length && !adopt.length) return [];
      const r = await this.scripts.fsAdmit(
        remainingKey(eventId),
        holdersKey(eventId),
        nowMs,
        adopt.length,
        ...adopt,
        ...users,
      );
      if (!Array.isArray(r)) return null;
      return r.map((c) => CODES[c]!);
    });
  }

  release(eventId: string, users: string[]): Promise<void> {
    return dependencyCall('redis', 'release', async () => {
      if (users.length) await this.redis.hdel(holdersKey(eventId), ...users);
    });
  }

  reconcile(
    eventId: string,
    capacity: number,
    pgUsers: string[],
    nowMs: number,
    graceMs: number,
  ): Promise<ReconcileResult> {
    return dependencyCall('redis', 'reconcile', async () => {
      const [rebuilt, added, released, remaining, young] = await this.scripts.fsReconcile(
        remainingKey(eventId),
        holdersKey(eventId),
        capacity,
        nowMs,
        graceMs,
        ...pgUsers,
      );
      return {
        rebuilt: rebuilt === 1,
        added: added ?? 0,
        released: released ?? 0,
        remaining: remaining ?? 0,
        youngInFlight: young ?? 0,
      };
    });
  }

  remaining(eventId: string): Promise<number | null> {
    return dependencyCall('redis', 'remaining', async () => {
      const v = await this.redis.get(remainingKey(eventId));
      return v === null ? null : Number(v);
    });
  }

  peek(
    eventId: string,
    rid: string,
  ): Promise<{ remaining: number | null; record: ReservationRecord | null }> {
    return dependencyCall('redis', 'peek', async () => {
      const res = await this.redis
        .pipeline()
        .get(remainingKey(eventId))
        .hgetall(recordKey(rid))
        .exec();
      if (!res) throw new Error('redis pipeline aborted');
      const [[e1, rem], [e2, h]] = res as [
        [Error | null, string | null],
        [Error | null, Record<string, string>],
      ];
      if (e1) throw e1;
      if (e2) throw e2;
      return { remaining: rem === null ? null : Number(rem), record: toRecord(rid, h) };
    });
  }

  getRecord(rid: string): Promise<ReservationRecord | null> {
    return dependencyCall('redis', 'getRecord', async () => {
      return toRecord(rid, await this.redis.hgetall(recordKey(rid)));
    });
  }

  recordAccepted(rec: ReservationRecord): Promise<void> {
    return dependencyCall('redis', 'recordAccepted', async () => {
      await this.scripts.fsRecordAccepted(
        recordKey(rec.reservationId),
        rec.eventId,
        rec.userId,
        rec.acceptedAt ?? Date.now(),
        this.recordTtlSec,
      );
    });
  }

  recordDecisions(recs: ReservationRecord[]): Promise<void> {
    return dependencyCall('redis', 'recordDecisions', async () => {
      if (!recs.length) return;
      const p = this.redis.pipeline();
      for (const r of recs) {
        const k = recordKey(r.reservationId);
        p.hset(k, {
          status: r.status,
          eventId: r.eventId,
          userId: r.userId,
          ...(r.acceptedAt ? { acceptedAt: String(r.acceptedAt) } : {}),
        });
        if (r.reason) p.hset(k, 'reason', r.reason);
        else p.hdel(k, 'reason');
        p.expire(k, this.recordTtlSec);
      }
      const res = await p.exec();
      const failed = res?.find(([err]) => err);
      if (!res || failed)
        throw new Error('recording decisions in redis failed', { cause: failed?.[0] });
    });
  }

  ping(): Promise<void> {
    return dependencyCall('redis', 'ping', async () => {
      await this.redis.ping();
    });
  }
}
