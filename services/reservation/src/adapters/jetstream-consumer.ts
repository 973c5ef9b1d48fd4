// The NATS side of the worker: binds the durable pull consumer, keeps it bound (re-creating the
// stream and consumer when NATS lost them), and hands out batches of messages. What to do with a
// message is the JetStream entry point's business (src/entry-points/jetstream/worker.ts).
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConsumerMessages, JetStreamManager, JsMsg } from '@nats-io/jetstream';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../logger.js';
import { ensureStreamAndConsumer, type JetStreamSettings } from './nats.js';

export interface ConsumerOptions {
  /** Most messages in one batch. */
  batchSize: number;
  log: Logger;
}

/**
 * A durable pull consumer that yields batches. Messages arrive in the background; each batch is
 * whatever arrived while the previous one was being handled (at most `batchSize`). While a batch is
 * in the caller's hands its messages are kept alive with `working()`, so a slow batch is not
 * redelivered to another worker.
 */
export class JetStreamBatches {
  private readonly buffer: JsMsg[] = [];
  private wake: (() => void) | undefined;
  private messages: ConsumerMessages | undefined;
  private stopping = false;
  private bound = false;
  private pullLoop: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly settings: JetStreamSettings,
    private readonly opts: ConsumerOptions,
  ) {}

  /** True while the consumer is bound and pulling. */
  get ready(): boolean {
    return this.bound && !this.nc.isClosed();
  }

  /** Messages waiting in the consumer (pending + unacknowledged). */
  async backlog(): Promise<number> {
    const info = await this.jsm.consumers.info(this.settings.stream, this.settings.consumer);
    return info.num_pending + info.num_ack_pending;
  }

  /** Starts pulling (once); yields batches until stop() and the buffer is empty. */
  async *batches(): AsyncGenerator<JsMsg[], void, undefined> {
    this.pullLoop ??= this.pull();
    for (;;) {
      if (!this.buffer.length) {
        if (this.stopping) return;
        await new Promise<void>((r) => (this.wake = r));
        this.wake = undefined;
        continue;
      }
      const batch = this.buffer.splice(0, this.opts.batchSize);
      const heartbeat = setInterval(
        () => {
          for (const m of batch) m.working();
        },
        Math.max(500, this.settings.ackWaitMs / 3),
      );
      try {
        yield batch;
      } finally {
        clearInterval(heartbeat);
      }
    }
  }

  private async pull(): Promise<void> {
    const js = jetstream(this.nc);
    const { stream, consumer: name } = this.settings;
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(stream, name);
        const messages = await consumer.consume({
          max_messages: this.opts.batchSize * 2,
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
        if (!this.stopping) this.opts.log.warn({ err }, 'consumer unavailable; binding again');
      }
      this.bound = false;
      if (this.stopping) break;
      await sleep(1000);
      // The stream or consumer may be gone (NATS restarted with its data lost): recreate.
      await ensureStreamAndConsumer(this.jsm, this.settings).catch((err: unknown) =>
        this.opts.log.warn({ err }, 'could not ensure stream and consumer'),
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
        this.opts.log.warn({ status: s.type }, 'consumer lost; re-binding');
        await messages.close();
        return;
      }
    }
  }

  /**
   * Stops pulling and hands buffered messages that no batch took back to the stream at once, for
   * other workers; the batch in the caller's hands is the caller's to finish. Then batches() ends.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close().catch(() => undefined);
    await this.pullLoop;
    for (const m of this.buffer.splice(0)) m.nak();
    this.wake?.();
  }
}
