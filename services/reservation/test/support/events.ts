// Events: creating one (admin) and waiting for its sale to settle.
import type { Audit } from '../../src/domain/events.js';
import { ADMIN_TOKEN, rand } from './env.js';
import { http } from './http.js';

/** Creates an event (10 tickets unless `body` says otherwise); throws unless it is 201. */
export async function createEvent(
  base: string,
  body: Record<string, unknown> = {},
): Promise<{ id: string; capacity: number }> {
  const r = await http<{ id: string; capacity: number }>(`${base}/v1/events`, {
    body: { name: `sale ${rand()}`, capacity: 10, ...body },
    token: ADMIN_TOKEN,
  });
  if (r.status !== 201) throw new Error(`create event: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The audit answer, as the domain defines it. */
export type AuditBody = Audit;

/** Polls the audit until the event's queue is drained and Redis agrees with Postgres. */
export async function drained(
  base: string,
  eventId: string,
  timeoutMs = 90_000,
): Promise<AuditBody> {
  const until = Date.now() + timeoutMs;
  let last: AuditBody | undefined;
  while (Date.now() < until) {
    const r = await http<AuditBody>(`${base}/v1/events/${eventId}/audit`, { token: ADMIN_TOKEN });
    if (r.status === 200) {
      last = r.body;
      if (last.pendingInQueue === 0 && last.drift === 0) return last;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`event ${eventId} did not drain: ${JSON.stringify(last)}`);
}
