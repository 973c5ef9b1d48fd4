// The ceiling: an empty Express POST handler in the same number of processes as the service, so
// the bench can say what share of the machine's HTTP capacity the service reaches. Env: PORT,
// WORKERS.
import cluster from 'node:cluster';
import express from 'express';

const port = Number(process.env.PORT ?? 8091);
const workers = Number(process.env.WORKERS ?? 2);

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  process.on('SIGTERM', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    process.exit(0);
  });
} else {
  const app = express();
  app.use(express.json());
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/v1/events/:id/reservations', (_req, res) => {
    res.status(202).json({ status: 'pending' });
  });
  app.listen(port, '127.0.0.1');
}
