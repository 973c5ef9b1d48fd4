// The reservation service's HTTP API: the sales, their audit (admin token) and its readiness,
// which also tells whether Postgres, Redis and NATS are reachable.
import { z } from 'zod';
import type { CreateSaleRequest } from '../api-types.js';
import { UpstreamCode, UpstreamError } from './errors.js';
import { fetchJson, joinUrl } from './http.js';

const isoOrNull = z.string().nullable().optional();
export const saleEvent = z.object({
  id: z.string(),
  name: z.string(),
  capacity: z.number(),
  sold: z.number(),
  remaining: z.number(),
  state: z.string(),
  saleStartsAt: isoOrNull,
  saleEndsAt: isoOrNull,
  createdAt: z.string().optional(),
});
export type SaleEvent = z.output<typeof saleEvent>;

const audit = z.object({
  eventId: z.string(),
  capacity: z.number(),
  sold: z.number(),
  reservations: z.number(),
  remainingRedis: z.number().nullable(),
  pendingInQueue: z.number(),
  duplicateHolders: z.number(),
  oversold: z.boolean(),
  drift: z.number().nullable(),
});
export type Audit = z.output<typeof audit>;

const readiness = z.object({
  status: z.string(),
  checks: z.record(z.string(), z.boolean()).optional(),
});

/** A checked client of the reservation service. */
export class ReservationClient {
  private readonly base: URL;

  constructor(
    url: string,
    private readonly adminToken: string,
    private readonly timeoutMs: number,
  ) {
    this.base = new URL(url);
  }

  private get adminHeaders(): Record<string, string> {
    if (!this.adminToken)
      throw new UpstreamError(
        'reservation',
        UpstreamCode.NotConfigured,
        'no admin token configured',
      );
    return { authorization: `Bearer ${this.adminToken}` };
  }

  /** The newest sales, newest first. */
  async listEvents(limit: number): Promise<SaleEvent[]> {
    const url = joinUrl(this.base, 'v1/events');
    url.searchParams.set('limit', String(limit));
    const { body } = await fetchJson(
      { source: 'reservation', url, timeoutMs: this.timeoutMs },
      z.object({ events: z.array(saleEvent) }),
    );
    return body.events;
  }

  /** The audit of one sale (needs the admin token). */
  async audit(eventId: string): Promise<Audit> {
    const url = joinUrl(this.base, `v1/events/${encodeURIComponent(eventId)}/audit`);
    const { body } = await fetchJson(
      { source: 'reservation', url, timeoutMs: this.timeoutMs, headers: this.adminHeaders },
      audit,
    );
    return body;
  }

  /** /readyz: 200 ready or 503 with the checks, both answers. */
  async readiness(): Promise<{ ready: boolean; checks: Record<string, boolean> }> {
    const { status, body } = await fetchJson(
      {
        source: 'reservation',
        url: joinUrl(this.base, 'readyz'),
        timeoutMs: this.timeoutMs,
        accept: [503],
      },
      readiness,
    );
    return { ready: status === 200, checks: body.checks ?? {} };
  }

  /** Creates a sale; answers the service's problem as an UpstreamError carrying its status. */
  async createEvent(req: CreateSaleRequest): Promise<SaleEvent> {
    const { body } = await fetchJson(
      {
        source: 'reservation',
        url: joinUrl(this.base, 'v1/events'),
        method: 'POST',
        timeoutMs: this.timeoutMs,
        headers: this.adminHeaders,
        body: req,
      },
      saleEvent,
    );
    return body;
  }
}
