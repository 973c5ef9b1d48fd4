import { setTimeout as sleep } from 'node:timers/promises';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type JetStreamClient,
  type JetStreamManager,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type {
  AdmissionFilter,
  DecisionBus,
  RequestQueue,
  ReservationRecord,
  ReservationRequest,
} from '../domain/model.js';
import type { DecisionWaiter } from '../domain/reservations.js';
import { DependencyError, dependencyCall } from '../errors.js';
import type { Logger } from '../logger.js';

const nanos = (ms: number) => ms * 1_000_000;

export interface JetStreamSettings {
  stream: string;
  subjectPrefix: string;
  consumer: string;
  maxMessages: number;
  /** Stream and consumer replicas; more than 1 needs a NATS cluster with as many nodes. */
  replicas: number;
  duplicateWindowMs: number;
  ackWaitMs: number;
  maxAckPending: number;
  publishTimeoutMs: number;
}

export const requestSubject = (prefix: string, eventId: string) =>
  `${prefix}.reservations.${eventId}`;
export const decisionSubject = (prefix: string, eventId: string) =>
  `${prefix}.decisions.${eventId}`;

/** Connects and keeps reconnecting for ever (a NATS restart is an outage, not a crash). */
export async function connectNats(
  servers: string,
  name: string,
  log: Logger,
): Promise<NatsConnection> {
  const nc = await connect({
    servers: servers.split(',').map((s) => s.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: true,
    pingInterval: 10_000,
    // Otherwise every request and publish captures a stack trace up front (an Error per call),
    // about 2 % of the service's CPU under load; failures still name the operation.
    noAsyncTraces: true,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        log.warn({ nats: s.type, server: 'server' in s ? s.server : undefined }, `nats ${s.type}`);
      }
    }
  })();
  return nc;
}

const isApiError = (err: unknown, code: number) =>
  err instanceof JetStreamApiError && err.code === code;

/**
 * Creates the stream and the durable consumer, or updates them to this config: idempotent, and
 * safe when several pods start at once.
 */
export async function ensureStreamAndConsumer(
  jsm: JetStreamManager,
  s: JetStreamSettings,
): Promise<void> {
  const stream: Partial<StreamConfig> & { name: string } = {
    name: s.stream,
    subjects: [`${s.subjectPrefix}.reservations.*`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs: s.maxMessages,
    num_replicas: s.replicas,
    duplicate_window: nanos(s.duplicateWindowMs),
  };
  try {
    await jsm.streams.info(s.stream);
    // Retention and storage cannot change on an existing stream; the rest is brought in line.
    const mutable: Partial<StreamConfig> = { ...stream };
    delete mutable.retention;
    delete mutable.storage;
    await jsm.streams.update(s.stream, mutable);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.StreamNotFound)) throw err;
    try {
      await jsm.streams.add(stream);
    } catch (addErr) {
      // Another pod created it in between: fine, as long as it exists now.
      await jsm.streams.info(s.stream).catch(() => {
        throw addErr;
      });
    }
  }
  const consumer: Partial<ConsumerConfig> = {
    durable_name: s.consumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(s.ackWaitMs),
    max_ack_pending: s.maxAckPending,
    // An accepted request is never dropped for being redelivered too often.
    max_deliver: -1,
    deliver_policy: DeliverPolicy.All,
    max_waiting: 512,
  };
  try {
    await jsm.consumers.info(s.stream, s.consumer);
    const mutable: Partial<ConsumerConfig> = { ...consumer };
    delete mutable.durable_name;
    delete mutable.deliver_policy;
    delete mutable.max_waiting; // fixed at creation
    await jsm.consumers.update(s.stream, s.consumer, mutable);
  } catch (err) {
    if (!isApiError(err, JetStreamApiCodes.ConsumerNotFound)) throw err;
    await jsm.consumers.add(s.stream, consumer);
  }
}

/**
 * ensureStreamAndConsumer, retried once a second while NATS is starting (JetStream answers only
 * once its storage is ready); throws after `attempts` tries with the last error as cause.
 */
export async function ensureStreamAndConsumerWithRetry(
  jsm: JetStreamManager,
  s: JetStreamSettings,
  log: Logger,
  attempts = 30,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await ensureStreamAndConsumer(jsm, s);
      return;
    } catch (err) {
      if (attempt >= attempts)
        throw new DependencyError('nats', 'could not create the JetStream stream and consumer', {
          cause: err,
        });
      log.warn({ err, attempt }, 'jetstream not ready; retrying');
      await sleep(1000);
    }
  }
}

/** The JetStream adapter for accepted requests. */
export class JetStreamQueue implements RequestQueue {
  private readonly js: JetStreamClient;

  constructor(
    nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly s: JetStreamSettings,
  ) {
    this.js = jetstream(nc, { timeout: s.publishTimeoutMs });
  }

  async publish(req: ReservationRequest): Promise<void> {
    try {
      await this.js.publish(
        requestSubject(this.s.subjectPrefix, req.eventId),
        JSON.stringify(req),
        {
          msgID: `${req.eventId}:${req.userId}`,
          timeout: this.s.publishTimeoutMs,
        },
      );
    } catch (err) {
      throw new DependencyError('nats', 'the queue did not acknowledge the request; retry', {
        cause: err,
      });
    }
  }

  pendingFor(eventId: string): Promise<number> {
    return dependencyCall('nats', 'pendingFor', async () => {
      const subject = requestSubject(this.s.subjectPrefix, eventId);
      const info = await this.jsm.streams.info(this.s.stream, { subjects_filter: subject });
      return info.state.subjects?.[subject] ?? 0;
    });
  }
}

export { jetstreamManager };

/** Publishes decisions on core NATS (best effort: the record in Redis is what waiters fall back to). */
export class NatsDecisionBus implements DecisionBus {
  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
  ) {}

  publish(decisions: ReservationRecord[]): void {
    const byEvent = new Map<string, ReservationRecord[]>();
    for (const d of decisions) {
      const list = byEvent.get(d.eventId) ?? [];
      list.push(d);
      byEvent.set(d.eventId, list);
    }
    for (const [eventId, list] of byEvent) {
      try {
        this.nc.publish(decisionSubject(this.prefix, eventId), JSON.stringify(list));
      } catch {
        // Closed or draining connection: waiters still find the record in Redis.
      }
    }
  }
}

/**
 * Lets API requests wait for their decision: listens to the decision subject, and checks the
 * stored record after registering (so a decision made just before the wait is not missed).
 */
export class NatsDecisionWaiter implements DecisionWaiter {
  private readonly waiting = new Map<string, Set<(r: ReservationRecord | null) => void>>();
  private sub: Subscription | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly prefix: string,
    private readonly admission: AdmissionFilter,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.sub = this.nc.subscribe(`${this.prefix}.decisions.>`, {
      callback: (err, msg) => {
        if (err || !this.waiting.size) return;
        try {
          for (const r of msg.json<ReservationRecord[]>()) this.resolve(r);
        } catch (e) {
          this.log.warn({ err: e }, 'undecodable decision message');
        }
      },
    });
  }

  private resolve(r: ReservationRecord): void {
    const set = this.waiting.get(r.reservationId);
    if (!set) return;
    this.waiting.delete(r.reservationId);
    for (const f of set) f(r);
  }

  async wait(reservationId: string, ms: number): Promise<ReservationRecord | null> {
    return new Promise((resolve) => {
      let set = this.waiting.get(reservationId);
      if (!set) {
        set = new Set();
        this.waiting.set(reservationId, set);
      }
      const done = (r: ReservationRecord | null) => {
        clearTimeout(timer);
        const s = this.waiting.get(reservationId);
        s?.delete(done);
        if (s && !s.size) this.waiting.delete(reservationId);
        resolve(r);
      };
      const timer = setTimeout(() => done(null), ms);
      set.add(done);
      this.admission.getRecord(reservationId).then(
        (rec) => {
          if (rec && rec.status !== 'pending') done(rec);
        },
        () => undefined,
      );
    });
  }

  /** Ends every wait now (graceful stop): they answer "still pending". */
  stop(): void {
    this.sub?.unsubscribe();
    for (const set of [...this.waiting.values()]) for (const f of [...set]) f(null);
  }
}
