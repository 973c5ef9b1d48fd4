import pg from 'pg';
import type { EventStore, SaleEvent } from '../domain/model.js';
import { DependencyError } from '../errors.js';

interface EventRow {
  id: string;
  name: string;
  capacity: number;
  sold: number;
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
    const { rows } = await this.query<EventRow>(
      'listEvents',
      'select * from events order by created_at desc, id limit $1',
      [limit],
    );
    return rows.map((r) => ({ ...toEvent(r), sold: r.sold }));
  }

  async counts(id: string): Promise<{ capacity: number; sold: number } | null> {
    const { rows } = await this.query<{ capacity: number; sold: number }>(
      'counts',
      'select capacity, sold from events where id = $1',
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

  async commitWinners(
    eventId: string,
    winners: Array<{ reservationId: string; userId: string }>,
  ): Promise<{ confirmed: string[]; refused: string[]; sold: number; capacity: number }> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw new DependencyError('postgres', 'connecting for commitWinners failed', { cause: err });
    });
    try {
      await client.query('begin');
      // The row lock orders batches of one event across all workers.
      const ev = await client.query<{ capacity: number; sold: number }>(
        'select capacity, sold from events where id = $1 for update',
        [eventId],
      );
      const row = ev.rows[0];
      if (!row) throw new Error(`event ${eventId} vanished`);
      const existing = await client.query<{ user_id: string }>(
        'select user_id from reservations where event_id = $1 and user_id = any($2::text[])',
        [eventId, winners.map((w) => w.userId)],
      );
      const had = new Set(existing.rows.map((r) => r.user_id));
      const fresh = winners.filter((w) => !had.has(w.userId));
      const seats = Math.max(0, row.capacity - row.sold);
      const take = fresh.slice(0, seats);
      const refused = fresh.slice(seats).map((w) => w.userId);
      let inserted: string[] = [];
      if (take.length) {
        const ins = await client.query<{ user_id: string }>(
          `insert into reservations (id, event_id, user_id)
           select t.id, $1, t.user_id from unnest($2::uuid[], $3::text[]) as t(id, user_id)
           on conflict do nothing returning user_id`,
          [eventId, take.map((w) => w.reservationId), take.map((w) => w.userId)],
        );
        inserted = ins.rows.map((r) => r.user_id);
      }
      let sold = row.sold;
      if (inserted.length) {
        const upd = await client.query<{ sold: number }>(
          `update events set sold = sold + $2
            where id = $1 and sold + $2 <= capacity returning sold`,
          [eventId, inserted.length],
        );
        if (upd.rowCount !== 1) throw new Error(`conditional update of event ${eventId} refused`);
        sold = upd.rows[0]!.sold;
      }
      await client.query('commit');
      return { confirmed: [...had, ...inserted], refused, sold, capacity: row.capacity };
    } catch (err) {
      await client.query('rollback').catch(() => undefined);
      throw new DependencyError(
        'postgres',
        `committing ${winners.length} winners of event ${eventId} failed`,
        { cause: err },
      );
    } finally {
      client.release();
    }
  }

  async losersCheck(
    eventId: string,
    userIds: string[],
  ): Promise<{ full: boolean; withRow: Set<string> }> {
    const { rows } = await this.query<{ full: boolean; with_row: string[] }>(
      'losersCheck',
      `select e.sold >= e.capacity as full,
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
      `select e.capacity, e.sold,
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
