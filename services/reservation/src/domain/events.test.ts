import { describe, expect, it } from 'vitest';
import { eventState } from './events.js';
import type { SaleEvent } from './model.js';

const at = (iso: string) => new Date(iso);
const ev = (capacity: number, start: string | null, end: string | null): SaleEvent => ({
  id: 'e',
  name: 'n',
  capacity,
  saleStartsAt: start ? at(start) : null,
  saleEndsAt: end ? at(end) : null,
  createdAt: at('2030-01-01T00:00:00Z'),
});

describe('eventState', () => {
  const now = at('2030-01-01T12:00:00Z').getTime();
  it.each([
    ['no window, seats left', ev(5, null, null), 0, 'open'],
    ['before the start', ev(5, '2030-01-01T13:00:00Z', null), 0, 'scheduled'],
    ['after the start', ev(5, '2030-01-01T11:00:00Z', null), 4, 'open'],
    ['all sold', ev(5, null, null), 5, 'sold_out'],
    ['after the end', ev(5, null, '2030-01-01T11:59:59Z'), 1, 'closed'],
    ['sold out and ended', ev(5, null, '2030-01-01T11:00:00Z'), 5, 'sold_out'],
    ['at the exact end', ev(5, null, '2030-01-01T12:00:00Z'), 0, 'closed'],
  ] as const)('when %s, then %s', (_name, e, sold, state) => {
    expect(eventState(e, sold, now)).toBe(state);
  });
});
