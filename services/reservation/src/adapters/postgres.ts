import pg from 'pg';
import type { EventStore, SaleEvent } from '../domain/model.js';
import { DependencyError } from '../errors.js';

interface EventRow {
  id: string;
  name: string;
  capacity: number;
  sale_starts_at: Date | null;
  sale_ends_at: Date | null;
  created_at: Date;
}

const toEvent = (r: EventRow): SaleEvent => ({
  id: r.id,
  name: r.name,
  capacity: r.capacity,
  saleStartsAt: r.sale_starts_at,
  saleEndsAt: r.sale_ends_at,
  createdAt: r.created_at,
});

export function createPool(url: string, max: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, connectionTimeoutMillis: 5000 });
  // A client losing its server (Postgres restarted) must not crash the process: idle clients
  // report on the pool, checked-out ones on themselves; the query in progress fails either way.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * What an event has sold: its highest seat number, one step down the (event_id, seat) index
 * (migration 1764000000000, ADR 36). `e` is the events row in the enclosing query.
 */
const SOLD = `coalesce((select max(r.seat) from reservations r where r.event_id = e.id), 0)`;

/** The Postgres adapter: the truth about events and reservations. */
export class PgEventStore implements EventStore {
  constructor(private readonly pool: pg.Pool) {}

  /** One statement; a failure becomes a DependencyError that names the call and keeps its cause. */
  private async query<R extends pg.QueryResultRow>(
    what: string,
    text: string,
    values: unknown[] = [],
  ): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw new DependencyError('postgres', `${what} failed`, { cause: err });
    }
  }

  async createEvent(e: Omit<SaleEvent, 'createdAt'>): Promise<SaleEvent> {
    const { rows } = await this.query<EventRow>(
      'createEvent',
      `insert into events (id, name, capacity, sale_starts_at, sale_ends_at)
       values ($1, $2, $3, $4, $5) returning *`,
      [e.id, e.name, e.capacity, e.saleStartsAt, e.saleEndsAt],
    );
    return toEvent(rows[0]!);
  }

  async getEvent(id: string): Promise<SaleEvent | null> {
    const { rows } = await this.query<EventRow>('getEvent', 'select * from events where id = $1', [
      id,
    ]);
    return rows[0] ? toEvent(rows[0]) : null;
  }

  async listEvents(limit: number): Promise<Array<SaleEvent & { sold: number }>> {
    const { rows } = await this.query<EventRow & { sold: number }>(
      'listEvents',
      `select e.*, ${SOLD} as sold from events e order by e.created_at desc, e.id limit $1`,
      [limit],
    );
    return rows.map((r) => ({ ...toEvent(r), sold: r.sold }));
  }

  async counts(id: string): Promise<{ capacity: number; sold: number } | null> {
    const { rows } = await this.query<{ capacity: number; sold: number }>(
      'counts',
      `select e.capacity, ${SOLD} as sold from events e where e.id = $1`,
      [id],
    );
    return rows[0] ?? null;
  }

  async holdersPage(eventId: string, afterUserId: string, limit: number): Promise<string[]> {
    const { rows } = await this.query<{ user_id: string }>(
      'holdersPage',
      `select user_id from reservations where event_id = $1 and user_id > $2
        order by user_id limit $3`,
      [eventId, afterUserId, limit],
    );
    return rows.map((r) => r.user_id);
  }

  async existingHolders(eventId: string, userIds: string[]): Promise<Set<string>> {
    if (!userIds.length) return new Set();
    const { rows } = await this.query<{ user_id: string }>(
      'existingHolders',
      'select user_id from reservations where event_id = $1 and user_id = any($2::text[])',
      [eventId, userIds],
    );
    return new Set(rows.map((r) => r.user_id));
  }

  /**
   * Commits a batch of one event's winners: users who already hold a row are confirmed again; the
   * rest take the seats left, in order; the ones past the seats are refused (Redis admitted more
   * than Postgres has). One call of the `commit_winners` function (migrations 1763900000000 and
   * 1764000000000): one round trip, one transaction, under the event's row lock, and one row
   * written per new winner (its seat number says what is sold; no counter is rewritten).
   */
  async commitWinners(
    eventId: string,
    winners: Array<{ reservationId: string; userId: string }>,
  ): Promise<{ confirmed: string[]; refused: string[]; sold: number; capacity: number }> {
    try {
      const { rows } = await this.pool.query<{
        confirmed: string[];
        refused: string[];
        sold: number;
        capacity: number;
      }>(
        'select confirmed, refused, sold, capacity from commit_winners($1, $2::uuid[], $3::text[])',
        [eventId, winners.map((w) => w.reservationId), winners.map((w) => w.userId)],
      );
      const r = rows[0];
      if (!r) throw new Error('commit_winners returned no row');
      return r;
    } catch (err) {
      throw new DependencyError(
        'postgres',
        `committing ${winners.length} winners of event ${eventId} failed`,
        { cause: err },
      );
    }
  }

  async losersCheck(
    eventId: string,
    userIds: string[],
  ): Promise<{ full: boolean; withRow: Set<string> }> {
    const { rows } = await this.query<{ full: boolean; with_row: string[] }>(
      'losersCheck',
      `select ${SOLD} >= e.capacity as full,
              coalesce((select array_agg(r.user_id) from reservations r
                         where r.event_id = e.id and r.user_id = any($2::text[])), '{}') as with_row
         from events e where e.id = $1`,
      [eventId, userIds],
    );
    const r = rows[0];
    if (!r) throw new DependencyError('postgres', `event ${eventId} vanished`);
    return { full: r.full, withRow: new Set(r.with_row) };
  }

  async findReservation(id: string): Promise<{ eventId: string; userId: string } | null> {
    const { rows } = await this.query<{ event_id: string; user_id: string }>(
      'findReservation',
      'select event_id, user_id from reservations where id = $1',
      [id],
    );
    return rows[0] ? { eventId: rows[0].event_id, userId: rows[0].user_id } : null;
  }

  async listEventIds(): Promise<string[]> {
    const { rows } = await this.query<{ id: string }>('listEventIds', 'select id from events');
    return rows.map((r) => r.id);
  }

  async audit(eventId: string): Promise<{
    capacity: number;
    sold: number;
    reservations: number;
    duplicateHolders: number;
  } | null> {
    const { rows } = await this.query<{
      capacity: number;
      sold: number;
      reservations: number;
      duplicate_holders: number;
    }>(
      'audit',
      `select e.capacity, ${SOLD} as sold,
              (select count(*)::int from reservations r where r.event_id = e.id) as reservations,
              (select count(*)::int from (select user_id from reservations r where r.event_id = e.id
                                          group by user_id having count(*) > 1) d) as duplicate_holders
         from events e where e.id = $1`,
      [eventId],
    );
    const r = rows[0];
    return r
      ? {
          capacity: r.capacity,
          sold: r.sold,
          reservations: r.reservations,
          duplicateHolders: r.duplicate_holders,
        }
      : null;
  }

  async ping(): Promise<void> {
    await this.query('ping', 'select 1');
  }
}
