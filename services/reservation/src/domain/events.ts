import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../errors.js';
import type { Catalog } from './catalog.js';
import type {
  AdmissionFilter,
  EventState,
  EventStore,
  EventView,
  Log,
  RequestQueue,
  SaleEvent,
} from './model.js';

export interface Audit {
  eventId: string;
  capacity: number;
  sold: number;
  reservations: number;
  remainingRedis: number | null;
  pendingInQueue: number;
  duplicateHolders: number;
  oversold: boolean;
  /** Redis remaining - (capacity - sold); null when Redis holds no counters for the event. */
  drift: number | null;
}

export function eventState(e: SaleEvent, sold: number, now: number): EventState {
  if (e.saleStartsAt && now < e.saleStartsAt.getTime()) return 'scheduled';
  if (sold >= e.capacity) return 'sold_out';
  if (e.saleEndsAt && now >= e.saleEndsAt.getTime()) return 'closed';
  return 'open';
}

const view = (e: SaleEvent, sold: number, now: number): EventView => ({
  ...e,
  sold,
  remaining: Math.max(0, e.capacity - sold),
  state: eventState(e, sold, now),
});

export interface EventsDeps {
  store: Pick<EventStore, 'createEvent' | 'listEvents' | 'getEvent' | 'counts' | 'audit'>;
  admission: Pick<AdmissionFilter, 'counters' | 'remaining'>;
  queue: Pick<RequestQueue, 'pendingFor'>;
  catalog: Pick<Catalog, 'remember'>;
  log: Log;
}

/** Admin and read use cases of events. */
export class Events {
  constructor(private readonly d: EventsDeps) {}

  async create(input: {
    name: string;
    capacity: number;
    saleStartsAt: Date | null;
    saleEndsAt: Date | null;
  }): Promise<EventView> {
    const e = await this.d.store.createEvent({ id: randomUUID(), ...input });
    this.d.catalog.remember(e);
    // Counters now rather than at the first request; if this fails the first batch builds them.
    await this.d.admission
      .counters(e.id, e.capacity, true)
      .catch((err: unknown) => this.d.log.warn({ err, eventId: e.id }, 'could not seed redis'));
    return view(e, 0, Date.now());
  }

  async list(limit: number): Promise<EventView[]> {
    const now = Date.now();
    return (await this.d.store.listEvents(limit)).map((e) => view(e, e.sold, now));
  }

  async get(id: string): Promise<EventView> {
    const e = await this.d.store.getEvent(id);
    if (!e) throw new NotFoundError('event_not_found', `event ${id} does not exist`);
    const c = await this.d.store.counts(id);
    return view(e, c?.sold ?? 0, Date.now());
  }

  async audit(id: string): Promise<Audit> {
    const a = await this.d.store.audit(id);
    if (!a) throw new NotFoundError('event_not_found', `event ${id} does not exist`);
    const [remainingRedis, pendingInQueue] = await Promise.all([
      this.d.admission.remaining(id),
      this.d.queue.pendingFor(id),
    ]);
    return {
      eventId: id,
      capacity: a.capacity,
      sold: a.sold,
      reservations: a.reservations,
      remainingRedis,
      pendingInQueue,
      duplicateHolders: a.duplicateHolders,
      oversold: a.sold > a.capacity || a.reservations > a.capacity || a.reservations !== a.sold,
      drift: remainingRedis === null ? null : remainingRedis - (a.capacity - a.sold),
    };
  }
}
