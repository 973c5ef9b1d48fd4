import { describe, expect, it } from 'vitest';
import { Prometheus } from './prometheus.js';

describe('Prometheus address', () => {
  it('when the URL has a sub-path, then API paths go under it', () => {
    const p = new Prometheus({ url: 'http://mon.example/prometheus/', timeoutMs: 1000 });
    expect(p.url('api/v1/query', { query: 'up' }).toString()).toBe(
      'http://mon.example/prometheus/api/v1/query?query=up',
    );
  });

  it('when the URL carries user:password, then it becomes basic auth and leaves the URL', () => {
    const p = new Prometheus({ url: 'https://a%40b:p%3Ass@mon.example/p', timeoutMs: 1000 });
    expect(p.requestHeaders.authorization).toBe(
      `Basic ${Buffer.from('a@b:p:ss').toString('base64')}`,
    );
    expect(p.url('api/v1/query').toString()).toBe('https://mon.example/p/api/v1/query');
  });

  it('when a bearer token is set, then it is sent', () => {
    const p = new Prometheus({ url: 'http://mon', bearerToken: 'tok', timeoutMs: 1000 });
    expect(p.requestHeaders.authorization).toBe('Bearer tok');
  });
});
