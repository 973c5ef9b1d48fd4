// The JetStream backlog of the worker consumer, read from the consumer itself (pending plus
// ack-pending): no scrape in between, so a surge shows within one read. A missing stream or consumer
// is "unavailable" — never the stream's last sequence, which is how KEDA's scaler turned a missing
// consumer into a huge scale-out.
import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Signal } from '../decision.js';

export interface BacklogTarget {
  stream: string;
  consumer: string;
}

/** Reads consumer backlogs over one NATS connection (opened lazily, reconnects by itself). */
export class BacklogReader {
  private nc?: Promise<NatsConnection>;
  private jsm?: Promise<JetStreamManager>;

  constructor(
    private readonly servers: string[],
    private readonly timeoutMs: number,
  ) {}

  private manager(): Promise<JetStreamManager> {
    this.nc ??= connect({
      servers: this.servers,
      name: 'flashsale-operator',
      maxReconnectAttempts: -1,
      timeout: this.timeoutMs,
    });
    this.jsm ??= this.nc.then((nc) => jetstreamManager(nc, { timeout: this.timeoutMs }));
    // A failed first connect is retried on the next read, not remembered forever.
    this.jsm.catch(() => {
      this.nc = undefined;
      this.jsm = undefined;
    });
    return this.jsm;
  }

  /** num_pending + num_ack_pending of the consumer, or why there is no number. */
  async read(t: BacklogTarget): Promise<Signal> {
    try {
      const jsm = await this.manager();
      const info = await jsm.consumers.info(t.stream, t.consumer);
      return { available: true, value: info.num_pending + info.num_ack_pending };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound)
        return { available: false, reason: `consumer ${t.stream}/${t.consumer} not found` };
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)
        return { available: false, reason: `stream ${t.stream} not found` };
      return {
        available: false,
        reason: `nats: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    this.jsm = undefined;
    if (nc) await nc.then((c) => c.close()).catch(() => undefined);
  }
}
