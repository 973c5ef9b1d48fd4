// A sale driven by a crowd and judged by the shared checker (@flashsale/invariants), the same one
// `make chaos-local` uses: what each user was told, against what Postgres and Redis hold.
import {
  Client,
  newSaleHistory,
  runCrowd,
  tally,
  verifySale,
  type SaleHistory,
} from '@flashsale/invariants';
import { ADMIN_TOKEN, type TestEnv } from './env.js';
import { drained } from './events.js';

/**
 * Drives a sale: each user (`buyer-<i>`) clicks once, then `repeats` extra clicks by the same
 * users, spread over the service URLs with bounded concurrency; `fault` starts once `faultAfter`
 * answers have come back and is awaited before returning. Requests with no answer are recorded
 * as status 0.
 */
export async function runSale(opts: {
  urls: string[];
  eventId: string;
  users: number;
  repeats?: number;
  concurrency?: number;
  faultAfter?: number;
  fault?: () => Promise<void>;
}): Promise<SaleHistory> {
  const users = Array.from({ length: opts.users }, (_, i) => `buyer-${i}`);
  const clicks = [...users];
  for (let i = 0; i < (opts.repeats ?? 0); i++) clicks.push(users[(i * 7919) % users.length]!);
  const concurrency = opts.concurrency ?? 100;
  const client = new Client(opts.urls, concurrency);
  let faultRun: Promise<void> | undefined;
  try {
    const run = await runCrowd({
      client,
      clicks,
      saleFor: () => opts.eventId,
      concurrency,
      onAnswer: (answered) => {
        if (opts.fault && !faultRun && answered >= (opts.faultAfter ?? 0)) faultRun = opts.fault();
      },
    });
    await faultRun;
    return run.histories.get(opts.eventId) ?? newSaleHistory(opts.eventId);
  } finally {
    client.close();
  }
}

/**
 * Checks I1–I6 once the queue drained (throws when it does not within 2 minutes), with the shared
 * checker: every reservation the answers named is polled until decided, then Postgres and Redis are
 * read and judged against what each user was told. Throws with the violations and their examples;
 * returns the tally of answers (`202`, `409 sold_out`, `0` for no answer ...).
 */
export async function checkInvariants(
  t: TestEnv,
  base: string,
  eventId: string,
  capacity: number,
  sale: SaleHistory,
): Promise<Record<string, number>> {
  await drained(base, eventId, 120_000);
  const client = new Client([base], 50);
  try {
    const { verdict } = await verifySale({
      client,
      adminToken: ADMIN_TOKEN,
      sale,
      sql: t.pg,
      redis: t.redis,
      redisKeyPrefix: t.redisPrefix,
      timeoutMs: 60_000,
    });
    const answers = tally(sale.users.values());
    const violations = [...verdict.violations];
    if (verdict.capacity !== capacity)
      violations.push(`the event has ${verdict.capacity} tickets, not ${capacity}`);
    if (violations.length)
      throw new Error(
        `invariants violated:\n${violations.join('\n')}\ntally ${JSON.stringify(answers)}`,
      );
    return answers;
  } finally {
    client.close();
  }
}
