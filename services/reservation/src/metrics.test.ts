import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('exposes the request and decision series at 0 before any traffic (a rate over them is 0, not empty)', async () => {
    const text = await new Metrics().registry.metrics();
    expect(text).toContain(
      'flashsale_http_requests_total{route="/v1/events/:id/reservations",method="POST",status="202"} 0',
    );
    expect(text).toContain('flashsale_reservation_decisions_total{outcome="confirmed"} 0');
    expect(text).toContain('flashsale_reservation_decisions_total{outcome="rejected"} 0');
  });
});
