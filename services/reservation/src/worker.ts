// The JetStream entry point: pulls accepted requests in batches from the durable consumer and
// hands them to the Decider. Thin on purpose: parsing, ack/nak/term and metrics live here; the
// decision lives in domain/decide.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { z } from 'zod';
import { ensureStreamAndConsumer, type JetStreamSettings } from './adapters/nats.js';
import type { Decider, Verdict } from './domain/decide.js';
import type { AdmissionFilter, DecisionBus, ReservationRequest } from './domain/model.js';
import type { Reconciler } from './domain/reconciler.js';
import { PoisonMessageError } from './errors.js';
import { isUuid, reservationId } from './ids.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

const requestSchema = z.strictObject({
  v: z.literal(1),
  reservationId: z.string(),
  eventId: z.string(),
  userId: z.string().min(1).max(128),
  acceptedAt: z.number().int().positive(),
});

/** Parses one message; throws PoisonMessageError for anything that can never be processed. */
export function parseRequest(data: Uint8Array): ReservationRequest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(data).toString('utf8'));
  } catch {
    throw new PoisonMessageError('unparseable', 'message body is not JSON');
  }
  const r = requestSchema.safeParse(json);
  if (!r.success)
    throw new PoisonMessageError('invalid', `message body is invalid: ${r.error.message}`);
  const req = r.data;
  if (!isUuid(req.eventId) || req.reservationId !== reservationId(req.eventId, req.userId)) {
    throw new PoisonMessageError('invalid', 'message ids do not match');
  }
  return req;
}

export interface WorkerDeps {
  nc: NatsConnection;
  jsm: JetStreamManager;
  settings: JetStreamSettings;
  batchSize: number;
  nakDelayMs: number;
  decider: Decider;
  admission: AdmissionFilter;
  bus: DecisionBus;
  reconciler: Reconciler;
  metrics: Metrics;
  log: Logger;
}

export class Worker {
  private readonly buffer: JsMsg[] = [];
  private wake: (() => void) | undefined;
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private bound = false;
  private pullLoop: Promise<void> | undefined;
  private processLoop: Promise<void> | undefined;
  private backlogTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: WorkerDeps) {}

  /** True while the consumer is bound and pulling. */
  get ready(): boolean {
    return this.bound && !this.d.nc.isClosed();
  }

  start(): void {
    this.pullLoop = this.pull();
    this.processLoop = this.process();
    const tick = async () => {
      try {
        const info = await this.d.jsm.consumers.info(
          this.d.settings.stream,
          this.d.settings.consumer,
        );
        this.d.metrics.backlog.set(info.num_pending + info.num_ack_pending);
      } catch {
        /* NATS away: the gauge keeps its last value; dependency_up says why */
      }
      if (!this.stopping) this.backlogTimer = setTimeout(() => void tick(), 2000);
    };
    this.backlogTimer = setTimeout(() => void tick(), 500);
  }

  private async pull(): Promise<void> {
    const js = jetstream(this.d.nc);
    const { stream, consumer: name } = this.d.settings;
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(stream, name);
        const messages = await consumer.consume({
          max_messages: this.d.batchSize * 2,
          expires: 5000,
        });
        this.messages = messages;
        this.bound = true;
        void this.watch(messages);
        for await (const m of messages) {
          this.buffer.push(m);
          this.wake?.();
        }
      } catch (err) {
        if (!this.stopping) this.d.log.warn({ err }, 'consumer unavailable; binding again');
      }
      this.bound = false;
      if (this.stopping) break;
      await sleep(1000);
      // The stream or consumer may be gone (NATS restarted with its data lost): recreate.
      await ensureStreamAndConsumer(this.d.jsm, this.d.settings).catch((err: unknown) =>
        this.d.log.warn({ err }, 'could not ensure stream and consumer'),
      );
    }
  }

  /** Stops the iterator when the consumer or stream vanished, so pull() re-creates and re-binds. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const s of messages.status()) {
      if (
        s.type === 'consumer_deleted' ||
        (s.type === 'consumer_not_found' && s.count > 2) ||
        s.type === 'stream_not_found'
      ) {
        this.d.log.warn({ status: s.type }, 'consumer lost; re-binding');
        await messages.close();
        return;
      }
    }
  }

  private async process(): Promise<void> {
    for (;;) {
      if (!this.buffer.length) {
        if (this.stopping) return;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      const batch = this.buffer.splice(0, this.d.batchSize);
      await this.handleBatch(batch);
    }
  }

  /** Decides one batch; never throws (every message ends acked, naked or terminated). */
  async handleBatch(batch: JsMsg[]): Promise<void> {
    this.d.metrics.batchSize.observe(batch.length);
    // A slow batch (Postgres under pressure) tells the server it is still working, so its messages
    // are not redelivered to another worker meanwhile.
    const heartbeat = setInterval(
      () => {
        for (const m of batch) m.working();
      },
      Math.max(500, this.d.settings.ackWaitMs / 3),
    );
    try {
      await this.decideBatch(batch);
    } finally {
      clearInterval(heartbeat);
    }
  }

  private async decideBatch(batch: JsMsg[]): Promise<void> {
    const byEvent = new Map<string, Array<{ m: JsMsg; req: ReservationRequest }>>();
    for (const m of batch) {
      try {
        const req = parseRequest(m.data);
        const list = byEvent.get(req.eventId) ?? [];
        list.push({ m, req });
        byEvent.set(req.eventId, list);
      } catch (err) {
        const reason = err instanceof PoisonMessageError ? err.reason : 'invalid';
        this.terminate(m, reason, (err as Error).message);
      }
    }
    await Promise.all(
      [...byEvent].map(async ([eventId, items]) => {
        this.d.reconciler.touch(eventId);
        let verdicts: Verdict[];
        try {
          verdicts = await this.d.decider.decideEvent(
            eventId,
            items.map((i) => i.req),
          );
        } catch (err) {
          this.d.log.warn({ err, eventId, n: items.length }, 'batch failed; redelivering later');
          for (const i of items) this.nak(i.m);
          return;
        }
        const decided = verdicts.flatMap((v, k) =>
          v.action === 'ack' ? [{ v, i: items[k]! }] : [],
        );
        try {
          await this.d.admission.recordDecisions(decided.map((x) => x.v.record));
        } catch (err) {
          this.d.log.warn({ err, eventId }, 'could not store decisions; redelivering later');
          for (const i of items) this.nak(i.m);
          return;
        }
        this.d.bus.publish(decided.map((x) => x.v.record));
        const now = Date.now();
        verdicts.forEach((v, k) => {
          const { m, req } = items[k]!;
          if (v.action === 'ack') {
            m.ack();
            this.d.metrics.messages.inc({ result: 'ack' });
            this.d.metrics.decisions.inc({ outcome: v.record.status });
            this.d.metrics.decisionLatency.observe(Math.max(0, now - req.acceptedAt) / 1000);
          } else if (v.action === 'nak') {
            this.nak(m);
          } else {
            this.terminate(m, v.reason, `event ${eventId} does not exist`);
          }
        });
      }),
    );
  }

  private nak(m: JsMsg): void {
    m.nak(this.d.nakDelayMs);
    this.d.metrics.messages.inc({ result: 'nak' });
  }

  private terminate(m: JsMsg, reason: string, detail: string): void {
    this.d.log.error(
      { reason, seq: m.seq, subject: m.subject, redelivered: m.redelivered },
      `terminating poison message: ${detail}`,
    );
    m.term(reason);
    this.d.metrics.poison.inc({ reason });
    this.d.metrics.messages.inc({ result: 'term' });
  }

  /** Stops pulling, finishes the batch in hand, hands buffered messages back, stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.backlogTimer);
    await this.messages?.close().catch(() => undefined);
    await this.pullLoop;
    // Messages buffered but not started go back to the stream at once for other workers.
    for (const m of this.buffer.splice(0)) m.nak();
    this.wake?.();
    await this.processLoop;
  }
}
