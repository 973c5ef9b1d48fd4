// The classic design, a benchmark reference only (never deployed): each reservation is one
// Postgres transaction that locks the event row (SELECT … FOR UPDATE) and relies on
// UNIQUE (event_id, user_id), on its own classic schema (schema.sql, a sold counter). Env: PORT, DATABASE_URL,
// WORKERS (processes, node:cluster), POOL (connections per process).
import cluster from 'node:cluster';
import express from 'express';
import pg from 'pg';

const port = Number(process.env.PORT ?? 8090);
const workers = Number(process.env.WORKERS ?? 2);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const pool = new pg.Pool({
    connectionString: process.env.DATABASE_URL,
    max: Number(process.env.POOL ?? 10),
  });
  pool.on('error', () => undefined);
  const app = express();
  app.use(express.json());
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/v1/events/:id/reservations', (req, res) => {
    const userId = (req.body as { userId?: unknown }).userId;
    if (typeof userId !== 'string' || !userId) {
      res.status(400).json({ code: 'invalid_request' });
      return;
    }
    void reserve(pool, req.params.id, userId).then(
      ([status, code]) => res.status(status).json({ code }),
      () => res.status(503).json({ code: 'unavailable' }),
    );
  });
  app.listen(port, '127.0.0.1');
}

/** One transaction per request: the row lock serialises every buyer of the event. */
async function reserve(pool: pg.Pool, eventId: string, userId: string): Promise<[number, string]> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    const ev = await c.query<{ capacity: number; sold: number }>(
      'select capacity, sold from events where id = $1 for update',
      [eventId],
    );
    const row = ev.rows[0];
    if (!row) {
      await c.query('rollback');
      return [404, 'event_not_found'];
    }
    const ins = await c.query(
      `insert into reservations (id, event_id, user_id) values (gen_random_uuid(), $1, $2)
       on conflict do nothing`,
      [eventId, userId],
    );
    if (ins.rowCount === 0) {
      await c.query('rollback');
      return [409, 'already_reserved'];
    }
    if (row.sold >= row.capacity) {
      await c.query('rollback');
      return [409, 'sold_out'];
    }
    await c.query('update events set sold = sold + 1 where id = $1', [eventId]);
    await c.query('commit');
    return [201, 'confirmed'];
  } catch (err) {
    await c.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
