import pg from 'pg';
import type { UserHistory } from './load.js';

/** The figures `reports/chaos-local.json` carries, and the invariants they must satisfy. */
export interface Verdict {
  attempts: number;
  accepted: number;
  confirmed: number;
  rejected: number;
  capacity: number;
  sold: number;
  reservations: number;
  oversold: boolean;
  undersold: boolean;
  duplicateHolders: number;
  lostAcceptances: number;
  untruthful: number;
  redisDrift: number | null;
  pendingAfterDrain: number;
  examples: Record<string, string[]>;
  violations: string[];
}

/**
 * Checks I1–I6 from both sides: what each client was told (its history) and what Postgres holds
 * (plus the service's own audit for Redis and the queue).
 */
export async function verify(opts: {
  databaseUrl: string;
  eventId: string;
  attempts: number;
  users: Map<string, UserHistory>;
  audit: { remainingRedis?: number | null; pendingInQueue?: number | null };
}): Promise<Verdict> {
  const db = new pg.Client({ connectionString: opts.databaseUrl });
  await db.connect();
  try {
    const ev = await db.query<{ capacity: number; sold: number }>(
      'select capacity, sold from events where id = $1',
      [opts.eventId],
    );
    const { capacity, sold } = ev.rows[0] ?? { capacity: 0, sold: 0 };
    const rows = await db.query<{ user_id: string; n: string }>(
      'select user_id, count(*) as n from reservations where event_id = $1 group by user_id',
      [opts.eventId],
    );
    const holders = new Map(rows.rows.map((r) => [r.user_id, Number(r.n)]));
    const reservations = [...holders.values()].reduce((a, b) => a + b, 0);
    const duplicateHolders = [...holders.values()].filter((n) => n > 1).length;

    const examples: Record<string, string[]> = { untruthful: [], lost: [] };
    let accepted = 0;
    let confirmed = 0;
    let rejected = 0;
    let lostAcceptances = 0;
    let untruthful = 0;
    for (const h of opts.users.values()) {
      const wasAccepted = h.accepted > 0 || h.confirmed > 0;
      if (wasAccepted) accepted++;
      if (h.confirmed > 0) confirmed++;
      if (h.rejected > 0) rejected++;
      const holds = holders.has(h.userId);
      // I5: confirmed means a row; rejected means none (and never both).
      if ((h.confirmed > 0 && !holds) || (h.rejected > 0 && holds)) {
        untruthful++;
        if (examples.untruthful!.length < 5) examples.untruthful!.push(JSON.stringify(h));
      }
      // I3: an accepted request ends confirmed or rejected.
      if (wasAccepted && h.confirmed === 0 && h.rejected === 0) {
        lostAcceptances++;
        if (examples.lost!.length < 5) examples.lost!.push(JSON.stringify(h));
      }
    }
    const remaining = opts.audit.remainingRedis;
    const redisDrift = typeof remaining === 'number' ? remaining - (capacity - sold) : null;
    const pendingAfterDrain = (opts.audit.pendingInQueue ?? 0) + lostAcceptances;
    const distinctAsking = new Set(
      [...opts.users.values()].filter((h) => h.accepted + h.confirmed > 0).map((h) => h.userId),
    );
    for (const u of holders.keys()) distinctAsking.add(u);
    const v: Verdict = {
      attempts: opts.attempts,
      accepted,
      confirmed,
      rejected,
      capacity,
      sold,
      reservations,
      oversold: sold > capacity || reservations !== sold,
      undersold: distinctAsking.size >= capacity && sold < capacity,
      duplicateHolders,
      lostAcceptances,
      untruthful,
      redisDrift,
      pendingAfterDrain,
      examples,
      violations: [],
    };
    if (ev.rowCount !== 1) v.violations.push('event missing from Postgres');
    if (v.oversold)
      v.violations.push(
        `I1 oversold: sold=${sold} reservations=${reservations} capacity=${capacity}`,
      );
    if (duplicateHolders)
      v.violations.push(`I2 ${duplicateHolders} users hold more than one ticket`);
    if (lostAcceptances) v.violations.push(`I3 ${lostAcceptances} accepted requests never decided`);
    if (v.undersold)
      v.violations.push(
        `I4 undersold: sold=${sold} of ${capacity} with ${distinctAsking.size} accepted users`,
      );
    if (untruthful) v.violations.push(`I5 ${untruthful} users were told something untrue`);
    if (redisDrift === null) v.violations.push('I6 not checked: the audit gave no Redis figure');
    else if (redisDrift !== 0)
      v.violations.push(`I6 Redis remaining differs from Postgres by ${redisDrift}`);
    if (pendingAfterDrain)
      v.violations.push(`${pendingAfterDrain} requests still pending after the drain`);
    return v;
  } finally {
    await db.end();
  }
}

/** Adds up the verdicts of several sales into one (violations keep the sale they came from). */
export function combine(verdicts: Verdict[]): Verdict {
  const sum = (f: (v: Verdict) => number) => verdicts.reduce((a, v) => a + f(v), 0);
  const drifts = verdicts.map((v) => v.redisDrift);
  return {
    attempts: sum((v) => v.attempts),
    accepted: sum((v) => v.accepted),
    confirmed: sum((v) => v.confirmed),
    rejected: sum((v) => v.rejected),
    capacity: sum((v) => v.capacity),
    sold: sum((v) => v.sold),
    reservations: sum((v) => v.reservations),
    oversold: verdicts.some((v) => v.oversold),
    undersold: verdicts.some((v) => v.undersold),
    duplicateHolders: sum((v) => v.duplicateHolders),
    lostAcceptances: sum((v) => v.lostAcceptances),
    untruthful: sum((v) => v.untruthful),
    // Drift adds up in absolute value: +1 on one sale and -1 on another is not agreement.
    redisDrift: drifts.some((d) => d === null)
      ? null
      : drifts.reduce<number>((a, d) => a + Math.abs(d ?? 0), 0),
    pendingAfterDrain: sum((v) => v.pendingAfterDrain),
    examples: Object.fromEntries(
      ['untruthful', 'lost'].map((k) => [
        k,
        verdicts.flatMap((v) => v.examples[k] ?? []).slice(0, 5),
      ]),
    ),
    violations: verdicts.flatMap((v, i) => v.violations.map((x) => `sale ${i + 1}: ${x}`)),
  };
}
