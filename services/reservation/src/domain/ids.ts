import { createHash } from 'node:crypto';

/** Salt of reservation ids (never change it: ids are stored as primary keys). */
const SALT = '2f0c6a8e-9b1d-4d3e-8a57-6c1f0e4b9d21';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a canonical lower- or upper-case UUID string. */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s.toLowerCase());
}

const sha1 = (s: string) => createHash('sha1').update(SALT).update(s, 'utf8').digest();

function format(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The reservation id of a user's request for an event: the same click, retried from any pod,
 * always names the same reservation. An RFC 9562 UUIDv8 whose first 64 bits (60 after the version)
 * are a hash of the event id — so the event can be found from the id alone, even when every other
 * record of a request was lost with Redis — and whose last 64 bits (62 after the variant) are a hash
 * of event and user.
 */
export function reservationId(eventId: string, userId: string): string {
  const e = eventId.toLowerCase();
  const b = Buffer.concat([
    sha1(`event:${e}`).subarray(0, 8),
    sha1(`${e}:${userId}`).subarray(0, 8),
  ]);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return format(b);
}

/** The event part of reservation ids: equal for every reservation of one event. */
export function eventTag(eventId: string): string {
  return reservationId(eventId, '').slice(0, 18);
}

/** The event part of a reservation id (compare with eventTag). */
export function tagOfReservation(reservationId: string): string {
  return reservationId.toLowerCase().slice(0, 18);
}
