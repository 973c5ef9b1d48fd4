import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from './client.js';

/** What one user was told over the run, answer by answer. */
export interface UserHistory {
  userId: string;
  reservationId?: string;
  accepted: number;
  confirmed: number;
  rejected: number;
  alreadyReserved: number;
  notOpen: number;
  unavailable: number;
  rateLimited: number;
  errors: number;
  unexpected: number;
}

export interface LoadResult {
  attempts: number;
  answered: number;
  byStatus: Record<string, number>;
  /** eventId → userId → what that user was told about that event. */
  histories: Map<string, Map<string, UserHistory>>;
  elapsedMs: number;
}

/** A sale of the run: its id and when (from the start of the load) it opens. */
export interface Sale {
  eventId: string;
  opensAtMs: number;
}

/** A user who has been told nothing yet. */
export function newHistory(userId: string): UserHistory {
  return {
    userId,
    accepted: 0,
    confirmed: 0,
    rejected: 0,
    alreadyReserved: 0,
    notOpen: 0,
    unavailable: 0,
    rateLimited: 0,
    errors: 0,
    unexpected: 0,
  };
}

/** Records one reservation answer in the user's history (shared with the status polls after the run). */
export function record(h: UserHistory, status: number, body: Record<string, unknown>): void {
  const code = typeof body.code === 'string' ? body.code : undefined;
  const state = typeof body.status === 'string' ? body.status : undefined;
  if (typeof body.reservationId === 'string') h.reservationId = body.reservationId;
  if ((status === 200 || status === 201) && state === 'confirmed') h.confirmed++;
  else if ((status === 200 || status === 202) && state === 'pending') h.accepted++;
  else if (status === 200 && state === 'rejected') h.rejected++;
  else if (status === 409 && code === 'sold_out') h.rejected++;
  else if (status === 409 && code === 'already_reserved') h.alreadyReserved++;
  else if (status === 409 && code === 'sale_not_open') h.notOpen++;
  else if (status === 503) h.unavailable++;
  else if (status === 429) h.rateLimited++;
  else h.unexpected++;
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

/** The sale an attempt at `atMs` goes to: mostly the newest open one, sometimes another (early or late clicks). */
function pickSale(sales: Sale[], atMs: number): Sale {
  if (Math.random() < 0.1) return sales[Math.floor(Math.random() * sales.length)] as Sale;
  const open = sales.filter((s) => s.opensAtMs <= atMs);
  return (open[open.length - 1] ?? sales[0]) as Sale;
}

/**
 * Sends `attempts` reservation requests from `distinctUsers` users (each at least once, the rest
 * repeated clicks), paced evenly over durationMs with at most `concurrency` in flight, to the sales
 * as they open. One in five asks to wait for the decision.
 */
export async function runLoad(opts: {
  client: Client;
  sales: Sale[];
  distinctUsers: number;
  attempts: number;
  durationMs: number;
  concurrency: number;
  runId: string;
  onProgress: (done: number, result: LoadResult) => void;
}): Promise<LoadResult> {
  const userIds = Array.from({ length: opts.distinctUsers }, (_, i) => `u-${opts.runId}-${i}`);
  const sequence = shuffle([
    ...userIds,
    ...Array.from(
      { length: Math.max(0, opts.attempts - userIds.length) },
      () => userIds[Math.floor(Math.random() * userIds.length)] as string,
    ),
  ]);
  const result: LoadResult = {
    attempts: sequence.length,
    answered: 0,
    byStatus: {},
    histories: new Map(opts.sales.map((sale) => [sale.eventId, new Map<string, UserHistory>()])),
    elapsedMs: 0,
  };
  const t0 = Date.now();
  let next = 0;
  let lastProgress = t0;
  const worker = async () => {
    while (next < sequence.length) {
      const i = next++;
      const due = t0 + (i * opts.durationMs) / sequence.length;
      if (due > Date.now()) await sleep(due - Date.now());
      const userId = sequence[i] as string;
      const sale = pickSale(opts.sales, Date.now() - t0);
      const users = result.histories.get(sale.eventId) as Map<string, UserHistory>;
      let h = users.get(userId);
      if (!h) users.set(userId, (h = newHistory(userId)));
      const wait = i % 5 === 0 ? '?wait=1500' : '';
      try {
        const a = await opts.client.call('POST', `/v1/events/${sale.eventId}/reservations${wait}`, {
          userId,
        });
        result.answered++;
        result.byStatus[a.status] = (result.byStatus[a.status] ?? 0) + 1;
        record(h, a.status, a.body);
      } catch {
        h.errors++;
        result.byStatus.error = (result.byStatus.error ?? 0) + 1;
      }
      if (Date.now() - lastProgress >= 5000) {
        lastProgress = Date.now();
        opts.onProgress(i + 1, result);
      }
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  result.elapsedMs = Date.now() - t0;
  return result;
}
