// The signal readers against the test bed's real Prometheus and NATS JetStream.
import { AckPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacklogReader } from '../src/signals/jetstream.js';
import { queryScalar } from '../src/signals/prometheus.js';
import { natsUrl, prometheusUrl } from './helpers.js';

const ask = (query: string) =>
  queryScalar({ address: prometheusUrl(), query, timeoutMs: 5000, maxAgeMs: 30_000 });

describe('Prometheus answers (real server)', () => {
  it('when the query has one finite series, then it is the value', async () => {
    expect(await ask('vector(1234.5)')).toEqual({ available: true, value: 1234.5 });
  });

  it.each([
    ['sum(flashsale_metric_nobody_exports)', 'empty answer'],
    ['vector(1) or label_replace(vector(2), "x", "y", "", "")', '2 series'],
    ['vector(1) / 0', 'infinite'],
    ['vector(0) / 0', 'NaN'],
    ['vector(-5)', 'negative'],
    ['sum(rate(', 'http 400'],
    ['up[1m]', 'result type matrix'],
  ])('when the query is %s, then it is unavailable (%s)', async (query, why) => {
    const s = await ask(query);
    expect(s.available).toBe(false);
    if (!s.available) expect(s.reason).toContain(why);
  });
});

describe('JetStream backlog (real server)', () => {
  let nc: NatsConnection;
  const reader = () => new BacklogReader([natsUrl()], 3000);
  const stream = `SIG_${process.pid}`;

  beforeAll(async () => {
    nc = await connect({ servers: natsUrl() });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`sig.${process.pid}.>`] });
    await jsm.consumers.add(stream, { durable_name: 'worker', ack_policy: AckPolicy.Explicit });
  });
  afterAll(async () => {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
  });

  it('when messages wait and some are delivered but unacked, then backlog = pending + ack-pending', async () => {
    const js = jetstream(nc);
    for (let i = 0; i < 10; i++) await js.publish(`sig.${process.pid}.x`, 'm');
    const c = await js.consumers.get(stream, 'worker');
    const batch = await c.fetch({ max_messages: 4, expires: 2000 });
    let got = 0;
    for await (const m of batch) if (m.seq > 0 && ++got === 4) break; // delivered, left unacked
    const r = reader();
    expect(await r.read({ stream, consumer: 'worker' })).toEqual({ available: true, value: 10 });
    await r.close();
  });

  it('when the consumer is missing, then it is unavailable, never the stream sequence', async () => {
    const r = reader();
    expect(await r.read({ stream, consumer: 'nobody' })).toEqual({
      available: false,
      reason: `consumer ${stream}/nobody not found`,
    });
    await r.close();
  });

  it('when the stream is missing, then it is unavailable', async () => {
    const r = reader();
    const s = await r.read({ stream: 'NO_SUCH_STREAM', consumer: 'worker' });
    expect(s.available).toBe(false);
    await r.close();
  });

  it('when NATS is unreachable, then it is unavailable with the reason', async () => {
    const r = new BacklogReader(['nats://127.0.0.1:1'], 1000);
    const s = await r.read({ stream, consumer: 'worker' });
    expect(s.available).toBe(false);
    await r.close();
  });
});
