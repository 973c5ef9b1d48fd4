// Each bad answer Prometheus can give, served by a tiny local HTTP server speaking its real protocol.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryScalar } from './prometheus.js';

const NOW = 1_800_000_000_000;
const ts = NOW / 1000;
const vector = (...values: string[]) =>
  JSON.stringify({
    status: 'success',
    data: {
      resultType: 'vector',
      result: values.map((v, i) => ({ metric: { pod: `p${i}` }, value: [ts, v] })),
    },
  });

// path → [status, body]; '/hang' never answers.
const answers: Record<string, [number, string]> = {
  '/ok': [200, vector('1234.5')],
  '/zero': [200, vector('0')],
  '/http503': [503, 'service unavailable'],
  '/http400': [
    400,
    JSON.stringify({ status: 'error', errorType: 'bad_data', error: 'parse error' }),
  ],
  '/error200': [200, JSON.stringify({ status: 'error', error: 'query timed out' })],
  '/empty': [200, vector()],
  '/several': [200, vector('1', '2')],
  '/nan': [200, vector('NaN')],
  '/inf': [200, vector('+Inf')],
  '/negative': [200, vector('-3')],
  '/matrix': [
    200,
    JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } }),
  ],
  '/html': [200, '<html>proxy login</html>'],
  '/stale': [200, vector('5').replace(String(ts), String(ts - 600))],
};

let server: Server;
let base: string;
beforeAll(async () => {
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace('/api/v1/query', '');
    if (path === '/hang') return; // leave the request open until the client gives up
    const [status, body] = answers[path] ?? [404, 'not found'];
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

// The path prefix stands in for Prometheus behind a path (e.g. /prometheus/api/v1/query).
const ask = (path: string, timeoutMs = 2000) =>
  queryScalar({
    address: `${base}${path}/`,
    query: 'sum(irate(x[15s]))',
    timeoutMs,
    maxAgeMs: 30_000,
    now: () => NOW,
  });

describe('queryScalar', () => {
  it('when Prometheus answers one finite sample, then it is the value', async () => {
    expect(await ask('/ok')).toEqual({ available: true, value: 1234.5 });
  });

  it('when the one sample is 0, then 0 is a real reading', async () => {
    expect(await ask('/zero')).toEqual({ available: true, value: 0 });
  });

  it.each([
    ['/http503', 'http 503'],
    ['/http400', 'http 400'],
    ['/error200', 'status error: query timed out'],
    ['/empty', 'empty answer'],
    ['/several', '2 series'],
    ['/nan', 'NaN'],
    ['/inf', 'infinite'],
    ['/negative', 'negative'],
    ['/matrix', 'result type matrix'],
    ['/html', 'not JSON'],
    ['/stale', 'stale sample'],
  ])(
    'when the answer is %s, then the metric is unavailable (%s), never a number',
    async (path, why) => {
      const s = await ask(path);
      expect(s.available).toBe(false);
      if (!s.available) expect(s.reason).toContain(why);
    },
  );

  it('when Prometheus does not answer in time, then it is a timeout', async () => {
    const s = await ask('/hang', 200);
    expect(s).toEqual({ available: false, reason: 'timeout after 200ms' });
  });

  it('when nothing listens, then it is unreachable', async () => {
    const s = await queryScalar({
      address: 'http://127.0.0.1:1',
      query: 'up',
      timeoutMs: 1000,
      maxAgeMs: 1,
    });
    expect(s.available).toBe(false);
    if (!s.available) expect(s.reason).toMatch(/unreachable/);
  });
});
