// POST /v1/events/:id/reservations, the route the sale's traffic takes: validate, rate-limit the
// user, call the use case and map its outcome to an answer. Both ways in share it: the Express
// route and the hot route (hot-route.ts), which reaches it without Express's chain.
import type { ServerResponse } from 'node:http';
import type { ReservationRecord } from '../../domain/model.js';
import type { Reservations } from '../../domain/reservations.js';
import { DependencyError, NotFoundError, RateLimitedError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';
import { sendJson, sendProblem } from './problem.js';
import type { RateLimiter } from './rate-limit.js';
import { requestIdOf } from './request-log.js';
import { parse, reservationBody, uuidParam, waitQuery } from './schemas.js';

export const reservationJson = (r: ReservationRecord) => ({
  reservationId: r.reservationId,
  eventId: r.eventId,
  // Unknown only for a rejection derived after Redis lost the request's record.
  ...(r.userId ? { userId: r.userId } : {}),
  status: r.status,
  ...(r.reason ? { reason: r.reason } : {}),
});

export interface ReserveRouteDeps {
  metrics: Pick<Metrics, 'publishFailures' | 'fastPath' | 'acceptDuration'>;
  reservations: Reservations | undefined;
  userLimiter: RateLimiter;
  waitMaxMs: number;
}

/** Answers one reservation request from its raw id, query and body; throws what it refuses. */
export type ReserveRoute = (
  rawId: unknown,
  rawQuery: unknown,
  rawBody: unknown,
  res: ServerResponse,
) => Promise<void>;

export function reserveRoute(d: ReserveRouteDeps): ReserveRoute {
  // Built once: constructing a zod schema per request was ~5 % of the service's CPU (cpu profile).
  const waitSchema = waitQuery(d.waitMaxMs);
  const { metrics, userLimiter } = d;

  return async (rawId, rawQuery, rawBody, res) => {
    const reservations = d.reservations;
    if (!reservations) throw new NotFoundError('not_found', 'this process does not serve the API');
    const eventId = parse(uuidParam, rawId, 'id');
    const q = parse(waitSchema, rawQuery, 'query');
    const { userId } = parse(reservationBody, rawBody, 'body');
    const wait = userLimiter.take(userId);
    if (wait) throw new RateLimitedError('too many attempts for this user', wait);
    const t0 = process.hrtime.bigint();
    const out = await reservations.reserve(eventId, userId, q.wait ?? 0).catch((err: unknown) => {
      if (err instanceof DependencyError && err.dependency === 'nats')
        metrics.publishFailures.inc();
      throw err;
    });
    metrics.fastPath.inc({ outcome: out.kind });
    const requestId = requestIdOf(res);
    switch (out.kind) {
      case 'pending':
        metrics.acceptDuration.observe(Number(process.hrtime.bigint() - t0) / 1e9);
        res.setHeader('Location', `/v1/reservations/${out.record.reservationId}`);
        sendJson(res, 202, JSON.stringify(reservationJson(out.record)));
        return;
      case 'confirmed':
        res.setHeader('Location', `/v1/reservations/${out.record.reservationId}`);
        sendJson(res, 201, JSON.stringify(reservationJson(out.record)));
        return;
      case 'already_reserved':
        sendProblem(res, 'already_reserved', 'this user already holds a ticket for this event', {
          reservationId: out.record.reservationId,
          reservationStatus: 'confirmed',
          requestId,
        });
        return;
      case 'sold_out':
        sendProblem(res, 'sold_out', 'every ticket of this event is sold', {
          ...(out.record
            ? { reservationId: out.record.reservationId, reservationStatus: 'rejected' }
            : {}),
          requestId,
        });
        return;
      case 'sale_not_open':
        sendProblem(res, 'sale_not_open', `the sale opens at ${out.startsAt.toISOString()}`, {
          saleStartsAt: out.startsAt.toISOString(),
          requestId,
        });
        return;
      case 'sale_closed':
        sendProblem(res, 'sale_closed', `the sale ended at ${out.endedAt.toISOString()}`, {
          saleEndsAt: out.endedAt.toISOString(),
          requestId,
        });
        return;
    }
  };
}
