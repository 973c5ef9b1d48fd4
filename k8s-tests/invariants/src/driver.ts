// The sale driver: creates events, sends a crowd's clicks with bounded concurrency, records every
// answer in the history the verdict reads, polls every named reservation until it is decided, and
// waits for the queue to drain. Shared by the service tests, `make chaos-local` and the in-cluster
// chaos run, so they all produce the same history.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Answer, Client } from './client.js';
import {
  newSaleHistory,
  recordAnswer,
  recordError,
  recordFinal,
  userOf,
  type SaleHistory,
  type UserHistory,
} from './history.js';

/** Creates an event (admin call); throws with the answer unless it is 201 with an id. */
export async function createEvent(
  client: Client,
  adminToken: string,
  body: {
    name: string;
    capacity: number;
    saleStartsAt?: string | null;
    saleEndsAt?: string | null;
  },
): Promise<{ id: string; capacity: number }> {
  const a = await client.call('POST', '/v1/events', body, {
    authorization: `Bearer ${adminToken}`,
  });
  if (a.status !== 201 || typeof a.body.id !== 'string')
    throw new Error(`creating an event answered ${a.status} ${JSON.stringify(a.body)}`);
  return { id: a.body.id, capacity: body.capacity };
}

/**
 * The order of a crowd's clicks: every user once, plus `attempts − users` repeated clicks.
 * `random` shuffles at random (a chaos run); `fixed` spreads the repeats and shuffles the same way
 * every time, so a test sees the same interleaving of first and repeated clicks on every run.
 */
export function crowd(userIds: string[], attempts: number, order: 'random' | 'fixed'): string[] {
  const n = userIds.length;
  const repeats = Math.max(0, attempts - n);
  const clicks = [...userIds];
  for (let i = 0; i < repeats; i++)
    clicks.push(
      userIds[order === 'fixed' ? (i * 7919) % n : Math.floor(Math.random() * n)] as string,
    );
  for (let i = clicks.length - 1; i > 0; i--) {
    const j = order === 'fixed' ? (i * 2654435761) % (i + 1) : Math.floor(Math.random() * (i + 1));
    [clicks[i], clicks[j]] = [clicks[j] as string, clicks[i] as string];
  }
  return clicks;
}

/** What a crowd run did: every answer is in `histories` (one per sale). */
export interface CrowdResult {
  attempts: number;
  answered: number;
  /** Answers by HTTP status (`error`: no answer). */
  byStatus: Record<string, number>;
  histories: Map<string, SaleHistory>;
  elapsedMs: number;
}

/**
 * Sends one reservation request per click, at most `concurrency` in flight, paced evenly over
 * `durationMs` (0: as fast as answers come back). `saleFor` picks the event of each click (by its
 * index and the time since the start); `waitMs` the `?wait=` of each (none when undefined).
 * `onAnswer` is told the number of answers so far (a test starts its fault from there);
 * `onProgress` is called at most every `progressEveryMs`.
 */
export async function runCrowd(opts: {
  client: Client;
  clicks: string[];
  saleFor: (index: number, elapsedMs: number) => string;
  concurrency: number;
  durationMs?: number;
  waitMs?: (index: number) => number | undefined;
  onAnswer?: (answered: number) => void;
  onProgress?: (done: number, result: CrowdResult) => void;
  progressEveryMs?: number;
}): Promise<CrowdResult> {
  const result: CrowdResult = {
    attempts: opts.clicks.length,
    answered: 0,
    byStatus: {},
    histories: new Map(),
    elapsedMs: 0,
  };
  const durationMs = opts.durationMs ?? 0;
  const every = opts.progressEveryMs ?? 5000;
  const t0 = Date.now();
  let next = 0;
  let lastProgress = t0;
  const worker = async () => {
    while (next < opts.clicks.length) {
      const i = next++;
      const due = t0 + (i * durationMs) / opts.clicks.length;
      if (due > Date.now()) await sleep(due - Date.now());
      const userId = opts.clicks[i] as string;
      const eventId = opts.saleFor(i, Date.now() - t0);
      let sale = result.histories.get(eventId);
      if (!sale) result.histories.set(eventId, (sale = newSaleHistory(eventId)));
      const h = userOf(sale, userId);
      const wait = opts.waitMs?.(i);
      try {
        const a = await opts.client.call(
          'POST',
          `/v1/events/${eventId}/reservations${wait === undefined ? '' : `?wait=${wait}`}`,
          { userId },
        );
        result.answered++;
        result.byStatus[a.status] = (result.byStatus[a.status] ?? 0) + 1;
        recordAnswer(h, a.status, a.body);
      } catch {
        recordError(h);
        result.byStatus.error = (result.byStatus.error ?? 0) + 1;
      }
      opts.onAnswer?.(result.answered);
      if (opts.onProgress && Date.now() - lastProgress >= every) {
        lastProgress = Date.now();
        opts.onProgress(i + 1, result);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.clicks.length) }, worker));
  result.elapsedMs = Date.now() - t0;
  return result;
}

/**
 * Polls `GET /v1/reservations/{id}` for every user whose answers named a reservation, until each
 * reads confirmed or rejected or `timeoutMs` passes; records the last reading as the user's
 * `final`. A poll without an answer is asked again next round. Returns how many stayed undecided.
 */
export async function settle(
  client: Client,
  histories: Iterable<SaleHistory>,
  opts: { timeoutMs: number; onProgress?: (undecided: number) => void; parallel?: number },
): Promise<number> {
  const deadline = Date.now() + opts.timeoutMs;
  const parallel = opts.parallel ?? 64;
  let open: UserHistory[] = [...histories]
    .flatMap((s) => [...s.users.values()])
    .filter((h) => h.reservationId !== undefined);
  for (;;) {
    await Promise.all(
      Array.from({ length: Math.min(parallel, open.length) }, async (_, w) => {
        for (let i = w; i < open.length; i += parallel) {
          const h = open[i] as UserHistory;
          try {
            const a = await client.call('GET', `/v1/reservations/${h.reservationId}`);
            recordFinal(h, a.status, a.body);
          } catch {
            /* asked again next round */
          }
        }
      }),
    );
    open = open.filter((h) => h.final !== 'confirmed' && h.final !== 'rejected');
    opts.onProgress?.(open.length);
    if (open.length === 0 || Date.now() > deadline) return open.length;
    await sleep(1000);
  }
}

/**
 * Asks the event's audit (admin) until `done` says the sale has settled — by default, no message
 * of it in the queue and Redis agreeing with Postgres — or `timeoutMs` passes; returns the last
 * answer either way (the verdict judges what it says).
 */
export async function auditWhenDrained(
  client: Client,
  eventId: string,
  adminToken: string,
  opts: {
    timeoutMs: number;
    done?: (audit: Record<string, unknown>) => boolean;
    onWait?: (audit: Answer) => void;
    intervalMs?: number;
  },
): Promise<Answer> {
  const done = opts.done ?? ((a) => a.pendingInQueue === 0 && a.drift === 0);
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    let audit: Answer;
    try {
      audit = await client.call('GET', `/v1/events/${eventId}/audit`, undefined, {
        authorization: `Bearer ${adminToken}`,
      });
    } catch (err) {
      audit = { status: 0, body: { error: String(err) } };
    }
    if ((audit.status === 200 && done(audit.body)) || Date.now() > deadline) return audit;
    opts.onWait?.(audit);
    await sleep(opts.intervalMs ?? 1000);
  }
}
