// The sale schedule, from the reservation service's own GET /v1/events: upcoming sales with their
// saleStartsAt and capacity. A failed read keeps the last good schedule (a sale's start does not move
// because the API blinked) and says so.
import { z } from 'zod';
import type { Sale } from '../prescale.js';

const EventsAnswer = z.object({
  events: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      capacity: z.number().int().nonnegative(),
      saleStartsAt: z.string().nullable().optional(),
    }),
  ),
});

/** Upcoming (and recently opened) sales; throws with the reason when the answer is unusable. */
export async function fetchSales(baseUrl: string, timeoutMs: number, limit = 100): Promise<Sale[]> {
  const url = new URL('/v1/events', baseUrl);
  url.searchParams.set('limit', String(limit));
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url.pathname}: http ${res.status}`);
  const parsed = EventsAnswer.safeParse(await res.json());
  if (!parsed.success)
    throw new Error(`GET ${url.pathname}: unexpected answer: ${parsed.error.message}`);
  const sales: Sale[] = [];
  for (const e of parsed.data.events) {
    if (!e.saleStartsAt) continue;
    const at = Date.parse(e.saleStartsAt);
    if (Number.isFinite(at))
      sales.push({ id: e.id, name: e.name, capacity: e.capacity, saleStartsAt: at });
  }
  return sales;
}
