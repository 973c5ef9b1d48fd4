// The JetStream entry point: takes batches of accepted requests from the consumer (the NATS
// adapter binds and feeds it) and, per batch: parse → decide (domain/decide.ts) → record the
// decisions → ack / nak / term, with a metric for each.
import { z } from 'zod';
import type { Decider, Verdict } from '../../domain/decide.js';
import { isUuid, reservationId } from '../../domain/ids.js';
import type { AdmissionFilter, DecisionBus, Log, ReservationRequest } from '../../domain/model.js';
import type { Reconciler } from '../../domain/reconciler.js';
import { PoisonMessageError } from '../../errors.js';
import type { Metrics } from '../../metrics.js';

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
  } catch (err) {
    throw new PoisonMessageError('unparseable', 'message body is not JSON', { cause: err });
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

/** One message as the entry point sees it (a JetStream JsMsg fits). */
export interface Delivery {
  readonly data: Uint8Array;
  readonly seq: number;
  readonly subject: string;
  readonly redelivered: boolean;
  ack(): void;
  nak(delayMs?: number): void;
  term(reason?: string): void;
}

/** Where batches come from (the NATS adapter's JetStreamBatches). */
export interface BatchSource {
  readonly ready: boolean;
  batches(): AsyncIterable<Delivery[]>;
  backlog(): Promise<number>;
  stop(): Promise<void>;
}

export interface WorkerDeps {
  source: BatchSource;
  nakDelayMs: number;
  decider: Pick<Decider, 'decideEvent'>;
  admission: Pick<AdmissionFilter, 'recordDecisions'>;
  bus: DecisionBus;
  reconciler: Pick<Reconciler, 'touch'>;
  metrics: Metrics;
  log: Log;
}

export class Worker {
  private stopping = false;
  private loop: Promise<void> | undefined;
  private backlogTimer: NodeJS.Timeout | undefined;

  constructor(private readonly d: WorkerDeps) {}

  /** True while the consumer is bound and pulling. */
  get ready(): boolean {
    return this.d.source.ready;
  }

  start(): void {
    this.loop = (async () => {
      for await (const batch of this.d.source.batches()) await this.handleBatch(batch);
    })();
    const tick = async () => {
      try {
        this.d.metrics.backlog.set(await this.d.source.backlog());
      } catch {
        /* NATS away: the gauge keeps its last value; dependency_up says why */
      }
      if (!this.stopping) this.backlogTimer = setTimeout(() => void tick(), 2000);
    };
    this.backlogTimer = setTimeout(() => void tick(), 500);
  }

  /** Decides one batch; never throws (every message ends acked, naked or terminated). */
  async handleBatch(batch: Delivery[]): Promise<void> {
    this.d.metrics.batchSize.observe(batch.length);
    const byEvent = new Map<string, Array<{ m: Delivery; req: ReservationRequest }>>();
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
    await Promise.all([...byEvent].map(([eventId, items]) => this.handleEvent(eventId, items)));
  }

  private async handleEvent(
    eventId: string,
    items: Array<{ m: Delivery; req: ReservationRequest }>,
  ): Promise<void> {
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
    const decided = verdicts.flatMap((v, k) => (v.action === 'ack' ? [{ v, i: items[k]! }] : []));
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
  }

  private nak(m: Delivery): void {
    m.nak(this.d.nakDelayMs);
    this.d.metrics.messages.inc({ result: 'nak' });
  }

  private terminate(m: Delivery, reason: string, detail: string): void {
    this.d.log.error(
      { reason, seq: m.seq, subject: m.subject, redelivered: m.redelivered },
      `terminating poison message: ${detail}`,
    );
    m.term(reason);
    this.d.metrics.poison.inc({ reason });
    this.d.metrics.messages.inc({ result: 'term' });
  }

  /** Stops pulling, finishes the batch in hand (buffered messages go back to the stream), stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.backlogTimer);
    await this.d.source.stop();
    await this.loop;
  }
}
