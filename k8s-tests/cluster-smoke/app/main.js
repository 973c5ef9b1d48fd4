// Stand-in for the reservation service, used by `make cluster-smoke` while services/reservation
// cannot be built yet. It honours the same contract: PORT (default 8080), GET /healthz (alive),
// GET /readyz (Postgres, Redis and NATS reachable over TCP, from DATABASE_URL, REDIS_URL, NATS_URL),
// one log line per request, and a clean exit on SIGTERM.
import http from 'node:http';
import net from 'node:net';

const port = Number(process.env.PORT ?? 8080);
const deps = {
  postgres: process.env.DATABASE_URL,
  redis: process.env.REDIS_URL,
  nats: process.env.NATS_URL,
};

/** Resolves when a TCP connection to the URL's host and port opens within a second. */
function reachable(url) {
  return new Promise((resolve) => {
    if (!url) return resolve(false);
    const u = new URL(url);
    const defaults = { 'postgres:': 5432, 'postgresql:': 5432, 'redis:': 6379, 'nats:': 4222 };
    const sock = net.connect({
      host: u.hostname,
      port: Number(u.port || defaults[u.protocol]),
      timeout: 1000,
    });
    sock.once('connect', () => (sock.destroy(), resolve(true)));
    sock.once('timeout', () => (sock.destroy(), resolve(false)));
    sock.once('error', () => resolve(false));
  });
}

const server = http.createServer(async (req, res) => {
  let status = 200;
  let body;
  if (req.url === '/healthz') {
    body = { status: 'ok' };
  } else if (req.url === '/readyz') {
    const names = Object.keys(deps);
    const results = await Promise.all(names.map((n) => reachable(deps[n])));
    body = Object.fromEntries(names.map((n, i) => [n, results[i]]));
    status = results.every(Boolean) ? 200 : 503;
  } else {
    body = { service: 'cluster-smoke-app', hostname: process.env.HOSTNAME };
  }
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  console.log(JSON.stringify({ msg: 'request', method: req.method, url: req.url, status }));
});

server.listen(port, () => console.log(JSON.stringify({ msg: 'listening', port })));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
