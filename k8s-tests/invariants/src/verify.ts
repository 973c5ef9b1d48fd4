// One sale, from the end of the load to its verdict: poll every named reservation until decided,
// wait for the queue to drain, read the stores, judge.
import type { Answer, Client } from './client.js';
import { auditWhenDrained, settle } from './driver.js';
import type { SaleHistory } from './history.js';
import { readSnapshot, type RedisReader, type SqlReader } from './snapshot.js';
import { judge, type Verdict } from './verdict.js';

/**
 * Settles and judges one sale: the status polls, then the audit until the queue is empty, then a
 * snapshot read from Postgres and Redis (the queue figure comes from the audit). `log` hears about
 * each wait. Returns the verdict and the last audit answer.
 */
export async function verifySale(opts: {
  client: Client;
  adminToken: string;
  sale: SaleHistory;
  sql: SqlReader;
  redis?: RedisReader;
  redisKeyPrefix?: string;
  timeoutMs: number;
  log?: (line: string) => void;
}): Promise<{ verdict: Verdict; audit: Answer }> {
  const short = opts.sale.eventId.slice(0, 8);
  await settle(opts.client, [opts.sale], {
    timeoutMs: opts.timeoutMs,
    onProgress: (n) => opts.log?.(`sale ${short}: ${n} named reservations still undecided`),
  });
  const audit = await auditWhenDrained(opts.client, opts.sale.eventId, opts.adminToken, {
    timeoutMs: opts.timeoutMs,
    onWait: (a) =>
      opts.log?.(
        `sale ${short}: waiting for the queue (audit ${a.status}: pendingInQueue=${String(a.body.pendingInQueue)} drift=${String(a.body.drift)})`,
      ),
  });
  const pending = audit.body.pendingInQueue;
  const snapshot = await readSnapshot({
    sql: opts.sql,
    ...(opts.redis ? { redis: opts.redis } : {}),
    ...(opts.redisKeyPrefix !== undefined ? { redisKeyPrefix: opts.redisKeyPrefix } : {}),
    eventId: opts.sale.eventId,
    pendingInQueue: audit.status === 200 && typeof pending === 'number' ? pending : null,
  });
  return { verdict: judge(opts.sale.users.values(), snapshot), audit };
}
