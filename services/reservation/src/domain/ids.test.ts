import { describe, expect, it } from 'vitest';
import { eventTag, isUuid, reservationId, tagOfReservation } from './ids.js';

describe('ids', () => {
  const e = '0b8f5d1e-2c4a-4f3b-9e6d-7a1c2b3d4e5f';
  const other = '9c0d7a55-1e2f-4a3b-8c4d-5e6f7a8b9c0d';

  it('when the same user retries, then the reservation id is the same; another user gets another', () => {
    expect(reservationId(e, 'alice')).toBe(reservationId(e.toUpperCase(), 'alice'));
    expect(reservationId(e, 'alice')).not.toBe(reservationId(e, 'bob'));
    expect(reservationId(e, 'alice')).not.toBe(reservationId(other, 'alice'));
  });

  it('is an RFC 9562 version 8 UUID', () => {
    const id = reservationId(e, 'alice');
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('8');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('when given a reservation id, then its event tag names its event', () => {
    expect(tagOfReservation(reservationId(e, 'alice'))).toBe(eventTag(e));
    expect(tagOfReservation(reservationId(e, 'bob').toUpperCase())).toBe(eventTag(e));
    expect(tagOfReservation(reservationId(other, 'alice'))).not.toBe(eventTag(e));
  });

  it('when a string is not a UUID, then isUuid says so', () => {
    for (const s of ['', 'x', '0b8f5d1e2c4a4f3b9e6d7a1c2b3d4e5f', "1' or '1'='1"]) {
      expect(isUuid(s)).toBe(false);
    }
  });
});
