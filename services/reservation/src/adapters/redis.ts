import { Redis } from 'ioredis';
import type {
  AdmissionFilter,
  AdmitResult,
  Counters,
  ReservationRecord,
  ReservationStatus,
} from '../domain/model.js';
import { dependencyCall } from '../errors.js';

// Keys of one event share the hash tag {evt:<id>}, so the scripts stay valid on a Redis Cluster.
const remainingKey = (id: string) => `{evt:${id}}:remaining`;
const holdersKey = (id: string) => `{evt:${id}}:holders`;
// Holders the script admitted that nobody has yet seen with a Postgres row (score: ms of the
// decision). The reconciler works through this set instead of the whole holder hash.
const unverifiedKey = (id: string) => `{evt:${id}}:unverified`;
const recordKey = (rid: string) => `res:${rid}`;

/**
 * The decision script. KEYS: remaining, holders (hash user -> ms of the last decision),
 * unverified (sorted set of admitted holders without a known row).
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
    redis.call('ZADD', KEYS[3], 'XX', now, u)
    out[#out + 1] = 1
  elseif rem > 0 then
    rem = rem - 1
    redis.call('HSET', KEYS[2], u, now)
    redis.call('ZADD', KEYS[3], now, u)
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
 * O(1) look at the counters. KEYS: remaining, holders, unverified. ARGV: capacity, create (0|1).
 * When remaining exists (or create is 1) it is set to capacity - holders, the invariant admit
 * keeps. Returns {existed, remaining before (-1 if none), holders, unverified, remaining after}.
 */
const COUNTERS = `
local cap = tonumber(ARGV[1])
local before = redis.call('GET', KEYS[1])
local hlen = redis.call('HLEN', KEYS[2])
local zlen = redis.call('ZCARD', KEYS[3])
local after = -1
if before or ARGV[2] == '1' then
  after = cap - hlen
  if after < 0 then after = 0 end
  if (not before) or tonumber(before) ~= after then redis.call('SET', KEYS[1], after) end
end
local existed = 0
if before then existed = 1 end
return {existed, tonumber(before or '-1'), hlen, zlen, after}
`;

/**
 * Adopts users that hold a Postgres row. KEYS: remaining, holders. ARGV: now, users.
 * Each one added takes a seat from remaining when the counter exists. Returns how many were added.
 */
const ADOPT = `
local added = 0
for i = 2, #ARGV do
  if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[1]) == 1 then added = added + 1 end
end
local rem = redis.call('GET', KEYS[1])
if rem and added > 0 then
  rem = tonumber(rem) - added
  if rem < 0 then rem = 0 end
  redis.call('SET', KEYS[1], rem)
end
return added
`;

/**
 * Settles checked holders. KEYS: holders, unverified. ARGV: now, grace ms, number with a row, the
 * users with a row, then the users without one. With a row: no longer unverified. Without: released
 * once their last decision is older than the grace period, else kept unverified at that time.
 * Returns how many were released (remaining is recounted by COUNTERS afterwards).
 */
const SETTLE = `
local now = tonumber(ARGV[1])
local grace = tonumber(ARGV[2])
local nRow = tonumber(ARGV[3])
for i = 4, 3 + nRow do redis.call('ZREM', KEYS[2], ARGV[i]) end
local released = 0
for i = 4 + nRow, #ARGV do
  local u = ARGV[i]
  local ts = redis.call('HGET', KEYS[1], u)
  if not ts then
    redis.call('ZREM', KEYS[2], u)
  elseif now - tonumber(ts) >= grace then
    redis.call('HDEL', KEYS[1], u)
    redis.call('ZREM', KEYS[2], u)
    released = released + 1
  else
    redis.call('ZADD', KEYS[2], ts, u)
  end
end
return released
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
  fsCounters(
    remaining: string,
    holders: string,
    unverified: string,
    ...argv: Array<string | number>
  ): Promise<number[]>;
  fsAdopt(remaining: string, holders: string, ...argv: Array<string | number>): Promise<number>;
  fsSettle(holders: string, unverified: string, ...argv: Array<string | number>): Promise<number>;
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
    // Commands issued in the same tick leave in one socket write: a write per command was the
    // largest single cost under load (about 6-11 % of CPU in the cpu profile, docs/capacity.md).
    enableAutoPipelining: true,
    retryStrategy: (times) => Math.min(times * 100, 1000),
  });
  // ioredis emits errors while it reconnects; readiness reports them instead.
  redis.on('error', () => undefined);
  // defineCommand sends EVALSHA and falls back to EVAL on NOSCRIPT (e.g. after a Redis restart).
  redis.defineCommand('fsAdmit', { numberOfKeys: 3, lua: ADMIT });
  redis.defineCommand('fsCounters', { numberOfKeys: 3, lua: COUNTERS });
  redis.defineCommand('fsAdopt', { numberOfKeys: 2, lua: ADOPT });
  redis.defineCommand('fsSettle', { numberOfKeys: 2, lua: SETTLE });
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
        unverifiedKey(eventId),
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
      if (!users.length) return;
      await this.redis
        .multi()
        .hdel(holdersKey(eventId), ...users)
        .zrem(unverifiedKey(eventId), ...users)
        .exec();
    });
  }

  counters(eventId: string, capacity: number, create: boolean): Promise<Counters> {
    return dependencyCall('redis', 'counters', async () => {
      const [existed, before, holders, unverified, after] = await this.scripts.fsCounters(
        remainingKey(eventId),
        holdersKey(eventId),
        unverifiedKey(eventId),
        capacity,
        create ? 1 : 0,
      );
      return {
        existed: existed === 1,
        remainingBefore: before === undefined || before < 0 ? null : before,
        holders: holders ?? 0,
        unverified: unverified ?? 0,
        remaining: after === undefined || after < 0 ? null : after,
      };
    });
  }

  adopt(eventId: string, users: string[], nowMs: number): Promise<number> {
    return dependencyCall('redis', 'adopt', async () => {
      if (!users.length) return 0;
      return this.scripts.fsAdopt(remainingKey(eventId), holdersKey(eventId), nowMs, ...users);
    });
  }

  unverified(eventId: string, upToMs: number, limit: number): Promise<string[]> {
    return dependencyCall('redis', 'unverified', () =>
      this.redis.zrangebyscore(unverifiedKey(eventId), '-inf', upToMs, 'LIMIT', 0, limit),
    );
  }

  settle(
    eventId: string,
    withRow: string[],
    withoutRow: string[],
    nowMs: number,
    graceMs: number,
  ): Promise<number> {
    return dependencyCall('redis', 'settle', async () => {
      if (!withRow.length && !withoutRow.length) return 0;
      return this.scripts.fsSettle(
        holdersKey(eventId),
        unverifiedKey(eventId),
        nowMs,
        graceMs,
        withRow.length,
        ...withRow,
        ...withoutRow,
      );
    });
  }

  scanHolders(
    eventId: string,
    cursor: string,
    count: number,
  ): Promise<{ cursor: string; users: string[] }> {
    return dependencyCall('redis', 'scanHolders', async () => {
      const [next, flat] = await this.redis.hscan(holdersKey(eventId), cursor, 'COUNT', count);
      return { cursor: next, users: flat.filter((_, i) => i % 2 === 0) };
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
      // Two plain commands in the same tick: auto-pipelining sends them, with every other request's
      // commands of that tick, in one socket write (an explicit pipeline is a write of its own:
      // 8 % of the service's CPU under the open-sale load, docs/capacity.md).
      const [rem, h] = await Promise.all([
        this.redis.get(remainingKey(eventId)),
        this.redis.hgetall(recordKey(rid)),
      ]);
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
