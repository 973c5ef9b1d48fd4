// The JetStream side: the stream and consumer are created idempotently with the configured
// policies, poison messages are terminated loudly (log + metric), never dropped silently.
import { randomUUID } from 'node:crypto';
import {
  AckPolicy,
  DiscardPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservationId } from '../src/ids.js';
import { parseRequest } from '../src/worker.js';
import { TestEnv, env } from './support/env.js';
import { http } from './support/http.js';
import { createEvent } from './support/events.js';
import { metric } from './support/metrics.js';

let t: TestEnv;
let nc: NatsConnection;

beforeAll(async () => {
  t = await TestEnv.create();
  nc = await connect({ servers: env('TESTBED_NATS_URL') });
});
afterAll(async () => {
  await nc?.close();
  await t?.cleanup();
});

describe('JetStream', () => {
  it('creates the stream and durable consumer with the configured policies, idempotently', async () => {
    const cfg = { STREAM_DUPLICATE_WINDOW_MS: 30_000, ACK_WAIT_MS: 7000, MAX_ACK_PENDING: 1234 };
    await t.start(cfg);
    await t.start(cfg); // a second pod starting finds them and leaves them as they are
    const jsm = await jetstreamManager(nc);
    const s = await jsm.streams.info(t.stream);
    expect(s.config).toMatchObject({
      subjects: [`${t.subjectPrefix}.reservations.*`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      duplicate_window: 30_000 * 1e6,
    });
    const c = await jsm.consumers.info(t.stream, t.consumer);
    expect(c.config).toMatchObject({
      durable_name: t.consumer,
      ack_policy: AckPolicy.Explicit,
      ack_wait: 7000 * 1e6,
      max_ack_pending: 1234,
      max_deliver: -1,
    });
  });

  it('when a message is poison, then it is terminated with a log line and a metric, and the stream drains', async () => {
    const svc = await t.start();
    const e = await createEvent(svc.url);
    const js = jetstream(nc);
    const subject = (id: string) => `${t.subjectPrefix}.reservations.${id}`;
    const unknown = randomUUID();
    const good = (eventId: string, userId: string) =>
      JSON.stringify({
        v: 1,
        reservationId: reservationId(eventId, userId),
        eventId,
        userId,
        acceptedAt: Date.now(),
      });
    await js.publish(subject(e.id), 'not json at all', { msgID: randomUUID() });
    await js.publish(subject(e.id), JSON.stringify({ v: 1, userId: 'x' }), { msgID: randomUUID() });
    await js.publish(
      subject(e.id),
      JSON.stringify({
        v: 1,
        reservationId: randomUUID(),
        eventId: e.id,
        userId: 'x',
        acceptedAt: 1,
      }),
      { msgID: randomUUID() },
    );
    await js.publish(subject(unknown), good(unknown, 'x'), { msgID: randomUUID() });
    await js.publish(subject(e.id), good(e.id, 'real'), { msgID: randomUUID() });

    await expect.poll(() => t.streamMessages(), { timeout: 30_000 }).toBe(0);
    // Every service process of this file shares the consumer: add up their metrics.
    const urls = t.services.map((x) => `http://127.0.0.1:${x.port}`);
    const poison = /flashsale_worker_poison_messages_total\{reason="(\w+)"\} (\d+)/g;
    const byReason: Record<string, number> = {};
    let terms = 0;
    for (const url of urls) {
      const text = await (await fetch(`${url}/metrics`)).text();
      for (const m of text.matchAll(poison))
        byReason[m[1]!] = (byReason[m[1]!] ?? 0) + Number(m[2]);
      terms += await metric(url, /flashsale_worker_messages_total\{result="term"\} (\d+)/);
    }
    expect(byReason).toEqual({ unparseable: 1, invalid: 2, unknown_event: 1 });
    expect(terms).toBe(4);
    // The good message among them was decided.
    const st = await http(`${svc.url}/v1/reservations/${reservationId(e.id, 'real')}`);
    expect(st.body.status).toBe('confirmed');
  });

  it('parses only well-formed requests whose ids agree', () => {
    const eventId = randomUUID();
    const ok = {
      v: 1,
      reservationId: reservationId(eventId, 'u'),
      eventId,
      userId: 'u',
      acceptedAt: 5,
    };
    expect(parseRequest(Buffer.from(JSON.stringify(ok)))).toEqual(ok);
    for (const bad of [
      '',
      '{',
      '[]',
      JSON.stringify({ ...ok, v: 2 }),
      JSON.stringify({ ...ok, extra: 1 }),
      JSON.stringify({ ...ok, userId: 'v' }),
      JSON.stringify({ ...ok, eventId: 'x' }),
    ]) {
      expect(() => parseRequest(Buffer.from(bad))).toThrow(/message/);
    }
  });
});
