import { describe, expect, it } from 'vitest';
import { healthOf } from './live.js';

const ok = <T>(data: T) => ({ ok: true as const, data });
const down = {
  ok: false as const,
  error: { source: 'reservation' as const, code: 'unreachable', message: 'gone' },
};

describe('healthOf', () => {
  it('when everything answers and the service is ready, then every light is up', () => {
    const h = healthOf(
      ok(1),
      ok(1),
      ok({ ready: true, checks: { postgres: true, redis: true, nats: true } }),
    );
    expect(h.map((x) => `${x.name}:${x.state}`)).toEqual([
      'kubernetes:up',
      'prometheus:up',
      'reservation:up',
      'postgres:up',
      'redis:up',
      'nats:up',
    ]);
  });

  it('when Redis is unreachable from the service, then the service and Redis are down', () => {
    const h = healthOf(
      ok(1),
      ok(1),
      ok({ ready: false, checks: { postgres: true, redis: false, nats: true } }),
    );
    expect(h.find((x) => x.name === 'reservation')).toMatchObject({
      state: 'down',
      detail: 'not ready: redis',
    });
    expect(h.find((x) => x.name === 'redis')?.state).toBe('down');
    expect(h.find((x) => x.name === 'postgres')?.state).toBe('up');
  });

  it('when the service does not answer, then its dependencies are unknown, not down', () => {
    const h = healthOf(ok(1), { ...down, error: { ...down.error, source: 'prometheus' } }, down);
    expect(h.find((x) => x.name === 'prometheus')?.state).toBe('down');
    expect(
      h
        .filter((x) => ['postgres', 'redis', 'nats'].includes(x.name))
        .every((x) => x.state === 'unknown'),
    ).toBe(true);
  });
});
