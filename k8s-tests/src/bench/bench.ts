// `make bench`: the reservation service beside an empty Express handler (the ceiling) and the
// classic one-transaction-per-request design (the baseline), driven by the same k6 script, on the
// test bed's local servers (127.0.0.1 only). Writes reports/bench.json and appends a row to
// docs/benchmarks.md. BENCH_PROFILE=short|full, BENCH_PROCESSES (default 2).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { quantileMs } from './histogram.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { historyFromAnswers, judge, readSnapshot } from '@flashsale/invariants';
import { Stack, freePort, repoRoot, run, waitUntil } from '@flashsale/testbed';
import { Redis } from 'ioredis';
import pg from 'pg';
import { Fleet } from '../chaos/fleet.js';

const log = (line: string) =>
  console.log(JSON.stringify({ time: new Date().toISOString(), msg: `bench: ${line}` }));

const PROFILES = {
  short: {
    stepSec: 8,
    rates: [250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2500, 3000, 4000],
    fixed: [500, 1000],
    burstUsers: 10_000,
    bigRows: 200_000,
  },
  full: {
    stepSec: 30,
    rates: [250, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000],
    fixed: [500, 1000, 2000],
    burstUsers: 10_000,
    bigRows: 200_000,
  },
} as const;
const ADMIN_TOKEN = 'bench-admin-token';
const SCENARIOS = ['flashBurst', 'soldOut', 'openSale', 'openSaleFixed', 'bigSale'] as const;
type System = 'reservation' | 'ceiling' | 'baseline';

interface Figures {
  rps: number;
  acceptedPerSec: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  decisionP99Ms: number | null;
  /** Mean messages per worker batch (the reservation service only). */
  meanBatch?: number | null;
  errors: number;
  dropped: number;
  confirmed: number | null;
  pgWrites: number | null;
  cpuSeconds: Record<string, number>;
  rate?: number;
  invariants?: string;
}

function k6Binary(): string {
  const dir = join(process.env.HOME ?? '/root', '.cache/flashsale/bin');
  const k6 = readdirSync(dir).find((d) => d.startsWith('k6-'));
  if (!k6) throw new Error(`no k6 in ${dir}: run make tools`);
  // make tools leaves either the binary itself or a folder holding it.
  const path = join(dir, k6);
  return statSync(path).isDirectory() ? join(path, 'k6') : path;
}

/** CPU seconds (user + system) a process and its children have used so far. */
function cpuOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

/** `pid` and every process below it (a clustered server's workers are its children). */
function processTree(pid: number | undefined): number[] {
  if (!pid) return [];
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]!.split(' ');
      parent.set(Number(d), Number(f[1]));
    } catch {
      // gone in between
    }
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++)
    for (const [child, ppid] of parent) if (ppid === out[i]) out.push(child);
  return out;
}

/**
 * The reservation processes' decision-latency histogram (accept → durable decision), summed over
 * the processes: cumulative counts by upper bound `le`.
 */
async function decisionBuckets(targets: string[]): Promise<Map<number, number>> {
  const sum = new Map<number, number>();
  for (const t of targets) {
    const text = await fetch(`${t}/metrics`).then((r) => r.text());
    for (const m of text.matchAll(
      /^flashsale_reservation_decision_latency_seconds_bucket\{[^}]*le="([^"]+)"[^}]*\} (\S+)$/gm,
    )) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      sum.set(le, (sum.get(le) ?? 0) + Number(m[2]));
    }
  }
  return sum;
}

/** Messages and batches the reservation workers decided so far (their batch-size histogram). */
async function batchTotals(targets: string[]): Promise<{ messages: number; batches: number }> {
  let messages = 0;
  let batches = 0;
  for (const t of targets) {
    const text = await fetch(`${t}/metrics`).then((r) => r.text());
    messages += Number(
      /^flashsale_worker_batch_size_sum(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0,
    );
    batches += Number(
      /^flashsale_worker_batch_size_count(?:\{[^}]*\})? (\S+)$/m.exec(text)?.[1] ?? 0,
    );
  }
  return { messages, batches };
}

/** The pids of processes whose command line contains `needle` (test-bed servers by their root). */
function pidsMatching(needle: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle);
      } catch {
        return false;
      }
    })
    .map(Number);
}

interface Ctx {
  k6: string;
  tmp: string;
  pgUrl: string;
  baselineUrl: string;
  redisUrl: string;
  targets: Record<System, string[]>;
  /** Shared servers' pids (redis, nats, postgres). */
  pids: Record<string, number[]>;
  /** The top processes of each system under test. */
  systemPids: Record<System, number[]>;
}

async function k6Run(
  ctx: Ctx,
  system: System,
  env: Record<string, string>,
): Promise<
  Pick<Figures, 'rps' | 'acceptedPerSec' | 'p50Ms' | 'p95Ms' | 'p99Ms' | 'errors' | 'dropped'>
> {
  const summary = join(ctx.tmp, `k6-${randomUUID()}.json`);
  await run(
    ctx.k6,
    ['run', '--quiet', '--no-usage-report', join(repoRoot, 'k8s-tests/k6/bench.js')],
    {
      env: { ...process.env, TARGETS: ctx.targets[system].join(','), SUMMARY: summary, ...env },
    },
  );
  const m = (
    JSON.parse(readFileSync(summary, 'utf8')) as {
      metrics: Record<string, { values: Record<string, number> }>;
    }
  ).metrics;
  const dur = m.http_req_duration?.values ?? {};
  const round = (v: number | undefined) => Math.round((v ?? 0) * 10) / 10;
  const elapsedSec =
    (m.http_reqs?.values.count ?? 0) / Math.max(m.http_reqs?.values.rate ?? 1, 1e-9);
  return {
    rps: round(m.http_reqs?.values.rate),
    acceptedPerSec: round((m.accepted?.values.count ?? 0) / Math.max(elapsedSec, 1e-9)),
    p50Ms: round(dur['p(50)']),
    p95Ms: round(dur['p(95)']),
    p99Ms: round(dur['p(99)']),
    errors: m.errors?.values.count ?? 0,
    dropped: m.dropped_iterations?.values.count ?? 0,
  };
}

/**
 * CPU seconds used so far by the system under test (`service`: its processes and their workers)
 * and by each shared server. The ceiling uses no server; the baseline only Postgres.
 */
function cpuSnapshot(ctx: Ctx, system: System): Record<string, number> {
  const out: Record<string, number> = {
    service: ctx.systemPids[system]
      .flatMap((p) => processTree(p))
      .reduce((a, p) => a + cpuOf(p), 0),
  };
  const servers =
    system === 'reservation'
      ? ['redis', 'nats', 'postgres']
      : system === 'baseline'
        ? ['postgres']
        : [];
  // Each server with its children: Postgres's backends are the postmaster's children (the ones
  // that exited are in its children's time, the live ones are read one by one).
  for (const k of servers)
    out[k] = [...new Set((ctx.pids[k] ?? []).flatMap((p) => processTree(p)))].reduce(
      (a, p) => a + cpuOf(p),
      0,
    );
  return out;
}

/**
 * How long a Postgres (15+) backend may keep its table statistics before it reports them: at most
 * once a second while busy, and 10 s after its last transaction when it goes idle. A count read
 * sooner can miss the last writes (a flash burst once read 2 writes for 20 winners).
 */
const PG_STATS_FLUSH_MS = 11_000;

async function pgWrites(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    // Tuple writes (inserts + updates) of this database, as far as the backends have reported them
    // (see PG_STATS_FLUSH_MS).
    const r = await c.query<{ w: string }>(
      'select coalesce(sum(n_tup_ins + n_tup_upd), 0)::text as w from pg_stat_user_tables',
    );
    return Number(r.rows[0]?.w ?? 0);
  } finally {
    await c.end();
  }
}

async function createEvent(ctx: Ctx, system: System, capacity: number): Promise<string> {
  if (system === 'reservation') {
    const res = await fetch(`${ctx.targets.reservation[0]}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify({ name: 'bench', capacity }),
    });
    if (res.status !== 201) throw new Error(`create event: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }
  const id = randomUUID();
  if (system === 'baseline') {
    const c = new pg.Client({ connectionString: ctx.baselineUrl });
    await c.connect();
    await c.query(`insert into events (id, name, capacity) values ($1, 'bench', $2)`, [
      id,
      capacity,
    ]);
    await c.end();
  }
  return id;
}

/** Invariants after a scenario: judged from the stores with @flashsale/invariants. */
async function checkInvariants(
  ctx: Ctx,
  system: System,
  eventId: string,
  expectSold?: number,
): Promise<string> {
  if (system === 'ceiling') return 'n/a';
  const url = system === 'reservation' ? ctx.pgUrl : ctx.baselineUrl;
  const sql = new pg.Client({ connectionString: url });
  await sql.connect();
  const redis = system === 'reservation' ? new Redis(ctx.redisUrl) : undefined;
  try {
    let pending = 0;
    if (system === 'reservation') {
      await waitUntil('queue drained', 120_000, async () => {
        const r = await fetch(`${ctx.targets.reservation[0]}/v1/events/${eventId}/audit`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const a = (await r.json()) as { pendingInQueue?: number; drift?: number };
        pending = a.pendingInQueue ?? 0;
        return pending === 0 && a.drift === 0;
      });
    }
    const snap = await readSnapshot({
      sql,
      ...(redis ? { redis } : {}),
      eventId,
      pendingInQueue: pending,
      soldFrom: system === 'baseline' ? 'column' : 'seats',
    });
    // The answers are judged by k6's counters; here the stores: I1, I2, I6 and the drained queue.
    const v = judge(
      historyFromAnswers(eventId, []).users.values(),
      system === 'baseline'
        ? {
            ...snap,
            redis: {
              remaining: snap.event!.capacity - snap.event!.sold,
              holders: snap.rows.map((r) => r.userId).sort(),
            },
            queue: { pending: 0 },
          }
        : snap,
    );
    const problems = [...v.violations];
    if (expectSold !== undefined && snap.event?.sold !== expectSold)
      problems.push(`sold ${snap.event?.sold} != ${expectSold}`);
    return problems.length ? `FAILED ${problems.join('; ')}` : 'ok';
  } finally {
    redis?.disconnect();
    await sql.end();
  }
}

async function scenario(
  ctx: Ctx,
  system: System,
  name: string,
  env: Record<string, string>,
  eventId: string,
  expectSold?: number,
  /** Wait for Postgres's statistics before counting writes (where a target depends on them). */
  exactWrites = false,
): Promise<Figures> {
  const cpu0 = cpuSnapshot(ctx, system);
  const d0 = system === 'reservation' ? await decisionBuckets(ctx.targets.reservation) : undefined;
  const b0 = system === 'reservation' ? await batchTotals(ctx.targets.reservation) : undefined;
  const w0 =
    system === 'ceiling'
      ? 0
      : await pgWrites(system === 'reservation' ? ctx.pgUrl : ctx.baselineUrl);
  const k = await k6Run(ctx, system, {
    EVENT: eventId,
    PREFIX: `${name}-${randomUUID().slice(0, 6)}`,
    ...env,
  });
  const loadEnded = Date.now();
  const invariants = await checkInvariants(ctx, system, eventId, expectSold);
  const cpu1 = cpuSnapshot(ctx, system);
  // The service answers 202 and decides later: its decision latency comes from its histogram. The
  // baseline decides inside the request: its decision latency is its answer's.
  const decisionP99Ms =
    system === 'reservation' && d0
      ? quantileMs(d0, await decisionBuckets(ctx.targets.reservation), 0.99)
      : system === 'baseline'
        ? k.p99Ms
        : null;
  const b1 = b0 ? await batchTotals(ctx.targets.reservation) : undefined;
  const meanBatch =
    b0 && b1 && b1.batches > b0.batches
      ? Math.round(((b1.messages - b0.messages) / (b1.batches - b0.batches)) * 10) / 10
      : null;
  if (exactWrites && system !== 'ceiling')
    await sleep(Math.max(0, PG_STATS_FLUSH_MS - (Date.now() - loadEnded)));
  const w1 =
    system === 'ceiling'
      ? 0
      : await pgWrites(system === 'reservation' ? ctx.pgUrl : ctx.baselineUrl);
  let confirmed: number | null = null;
  if (system !== 'ceiling') {
    const c = new pg.Client({
      connectionString: system === 'reservation' ? ctx.pgUrl : ctx.baselineUrl,
    });
    await c.connect();
    // Rows, not a counter: the same question for both designs (the service keeps no sold column).
    confirmed = Number(
      (
        await c.query<{ n: number }>(
          'select count(*)::int as n from reservations where event_id = $1',
          [eventId],
        )
      ).rows[0]?.n ?? 0,
    );
    await c.end();
  }
  const cpuSeconds: Record<string, number> = {};
  for (const key of Object.keys(cpu1))
    cpuSeconds[key] = Math.round(((cpu1[key] ?? 0) - (cpu0[key] ?? 0)) * 100) / 100;
  const f: Figures = {
    ...k,
    decisionP99Ms,
    ...(system === 'reservation' ? { meanBatch } : {}),
    confirmed,
    pgWrites: system === 'ceiling' ? null : w1 - w0,
    cpuSeconds,
    invariants,
  };
  log(
    `${name} ${system}${env.RATE ? ` @${env.RATE}/s` : ''}: ${f.rps} req/s, accepted ${f.acceptedPerSec}/s, p99 ${f.p99Ms} ms, errors ${f.errors}, dropped ${f.dropped},${f.meanBatch !== undefined ? ` batch ${f.meanBatch},` : ''} cpu ${JSON.stringify(f.cpuSeconds)}, confirmed ${f.confirmed ?? '-'}, invariants ${invariants}`,
  );
  return f;
}

function startServer(file: string, port: number, env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(repoRoot, file)], {
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: 'ignore',
  });
}

async function main(): Promise<void> {
  const profileName = (process.env.BENCH_PROFILE ?? 'short') as keyof typeof PROFILES;
  const p = PROFILES[profileName];
  if (!p) throw new Error(`BENCH_PROFILE must be short or full, not ${profileName}`);
  const procs = Number(process.env.BENCH_PROCESSES ?? 2);
  const stepSec = Number(process.env.BENCH_STEP_SEC ?? p.stepSec);
  // BENCH_FIXED=100,500: the open sale's fixed rates instead of the profile's.
  const fixedRates = process.env.BENCH_FIXED
    ? process.env.BENCH_FIXED.split(',').map(Number)
    : [...p.fixed];
  if (fixedRates.some((r) => !Number.isInteger(r) || r <= 0))
    throw new Error(`BENCH_FIXED must list positive integers, not ${process.env.BENCH_FIXED}`);
  if (!Number.isInteger(stepSec) || stepSec <= 0)
    throw new Error(`BENCH_STEP_SEC must be a positive integer, not ${process.env.BENCH_STEP_SEC}`);
  const systems = (process.env.BENCH_SYSTEMS ?? 'reservation,ceiling,baseline').split(
    ',',
  ) as System[];
  // BENCH_SCENARIOS=openSaleFixed,... runs a subset (e.g. to profile one load shape).
  const scenarios = new Set(
    (process.env.BENCH_SCENARIOS ?? SCENARIOS.join(',')).split(',').filter(Boolean),
  );
  for (const x of scenarios)
    if (!(SCENARIOS as readonly string[]).includes(x))
      throw new Error(`BENCH_SCENARIOS: unknown scenario ${x} (known: ${SCENARIOS.join(', ')})`);
  const started = Date.now();
  log(
    `profile ${profileName}, ${procs} processes per system, systems ${systems.join(', ')}, load avg ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );

  const stack = await Stack.start({
    servers: ['postgres', 'redis', 'nats'],
    reapWhenGone: process.pid,
    log: (l) => log(`testbed: ${l}`),
  });
  const env = stack.env;
  const pgUrl = env.TESTBED_POSTGRES_URL as string;
  const base = new URL(pgUrl);
  base.pathname = '/bench_baseline';
  const baselineUrl = base.toString();
  const serviceEnv: Record<string, string> = {
    DATABASE_URL: pgUrl,
    REDIS_URL: env.TESTBED_REDIS_URL as string,
    NATS_URL: env.TESTBED_NATS_URL as string,
    ADMIN_TOKEN,
    ROLE: 'both',
    LOG_LEVEL: 'warn',
    RATE_LIMIT_IP_PER_SEC: '0',
    ...(process.env.BENCH_SERVICE_ENV
      ? (JSON.parse(process.env.BENCH_SERVICE_ENV) as Record<string, string>)
      : {}),
  };
  // BENCH_CPU_PROF=<dir>: the service processes write a V8 CPU profile there when they stop.
  const profDir = process.env.BENCH_CPU_PROF;
  const fleet = new Fleet(
    serviceEnv,
    stack.root,
    profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [],
  );
  const children: ChildProcess[] = [];
  const results: Record<string, Partial<Record<System, Figures | Figures[]>>> = {};
  try {
    const migrate = join(repoRoot, 'services/reservation/dist/migrate.js');
    await run(process.execPath, [migrate], { env: { ...process.env, ...serviceEnv } });
    const admin = new pg.Client({ connectionString: pgUrl });
    await admin.connect();
    await admin.query('create database bench_baseline');
    await admin.end();
    // The baseline keeps the classic schema of its own (a sold counter), not the service's.
    const baselineDb = new pg.Client({ connectionString: baselineUrl });
    await baselineDb.connect();
    await baselineDb.query(
      readFileSync(join(repoRoot, 'k8s-tests/bench/baseline/schema.sql'), 'utf8'),
    );
    await baselineDb.end();
    await fleet.start(procs);
    await fleet.ready(90_000);
    const ceilingPort = await freePort();
    const baselinePort = await freePort();
    children.push(
      startServer('k8s-tests/bench/ceiling.ts', ceilingPort, { WORKERS: String(procs) }),
    );
    children.push(
      startServer('k8s-tests/bench/baseline/server.ts', baselinePort, {
        WORKERS: String(procs),
        DATABASE_URL: baselineUrl,
      }),
    );
    for (const port of [ceilingPort, baselinePort])
      await waitUntil(
        `server on ${port}`,
        60_000,
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
      );
    const ctx: Ctx = {
      k6: k6Binary(),
      tmp: stack.root,
      pgUrl,
      baselineUrl,
      redisUrl: env.TESTBED_REDIS_URL as string,
      targets: {
        reservation: fleet.ports.map((port) => `http://127.0.0.1:${port}`),
        ceiling: [`http://127.0.0.1:${ceilingPort}`],
        baseline: [`http://127.0.0.1:${baselinePort}`],
      },
      systemPids: {
        reservation: fleet.members.map((m) => m.child?.pid ?? 0),
        ceiling: [children[0]?.pid ?? 0],
        baseline: [children[1]?.pid ?? 0],
      },
      pids: {
        redis: pidsMatching(`${stack.root}/redis`).length
          ? pidsMatching(`${stack.root}/redis`)
          : pidsMatching('redis-server'),
        nats: pidsMatching('nats-server').filter((x) =>
          readFileSync(`/proc/${x}/cmdline`, 'utf8').includes(stack.root),
        ),
        postgres: pidsMatching(stack.root).filter((x) =>
          readFileSync(`/proc/${x}/cmdline`, 'utf8').includes('postgres'),
        ),
      },
    };
    log(
      `ready: services ${ctx.targets.reservation.join(' ')}, ceiling ${ceilingPort}, baseline ${baselinePort}`,
    );

    // (1) flash burst: 10,000 users, one click each, 20 tickets.
    for (const s of systems) {
      if (!scenarios.has('flashBurst') && !scenarios.has('soldOut')) break;
      const id = await createEvent(ctx, s, 20);
      results.flashBurst ??= {};
      results.flashBurst[s] = await scenario(
        ctx,
        s,
        'flash-burst',
        { MODE: 'burst', USERS: String(p.burstUsers), VUS: '200' },
        id,
        s === 'ceiling' ? undefined : 20,
        true,
      );
      // (3) sold-out storm: everyone after the sale sold out.
      if (!scenarios.has('soldOut')) continue;
      results.soldOut ??= {};
      results.soldOut[s] = await scenario(
        ctx,
        s,
        'sold-out',
        { MODE: 'rate', RATE: '1000', DURATION: `${stepSec}s` },
        id,
        s === 'ceiling' ? undefined : 20,
      );
    }
    // (2) open sale: the ramp and fixed rates, on events that never sell out.
    for (const s of systems) {
      const ramp: Figures[] = [];
      for (const rate of scenarios.has('openSale') ? p.rates : []) {
        const id = await createEvent(ctx, s, 10_000_000);
        const f = await scenario(
          ctx,
          s,
          'open-sale-ramp',
          { MODE: 'rate', RATE: String(rate), DURATION: `${stepSec}s` },
          id,
        );
        ramp.push({ ...f, rate });
        if (f.errors > 0 || f.dropped > 0 || f.invariants?.startsWith('FAILED')) break;
      }
      const clean = ramp.filter((f) => f.errors === 0 && f.dropped === 0);
      if (ramp.length) (results.openSale ??= {})[s] = clean.length ? clean.at(-1)! : ramp[0]!;
      const fixed: Figures[] = [];
      for (const rate of scenarios.has('openSaleFixed') ? fixedRates : []) {
        const id = await createEvent(ctx, s, 10_000_000);
        fixed.push({
          ...(await scenario(
            ctx,
            s,
            'open-sale-fixed',
            { MODE: 'rate', RATE: String(rate), DURATION: `${stepSec}s` },
            id,
          )),
          rate,
        });
      }
      if (fixed.length) (results.openSaleFixed ??= {})[s] = fixed;
    }
    // (4) big sale: p99 at a fixed rate on an event already holding 200,000 reservations vs fresh.
    if (systems.includes('reservation') && scenarios.has('bigSale')) {
      const fresh = await createEvent(ctx, 'reservation', 10_000_000);
      const big = await createEvent(ctx, 'reservation', 10_000_000);
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(
        `insert into reservations (id, event_id, user_id, seat)
         select gen_random_uuid(), $1, 'seed-' || g, g from generate_series(1, $2) g`,
        [big, p.bigRows],
      );
      // An event that has held its reservations for a while has been vacuumed and analysed; fresh
      // seeding has not, and autovacuum would otherwise visit 200,000 new rows during the measured
      // step (one run's Postgres CPU tripled in it).
      await c.query('vacuum analyze reservations');
      await c.end();
      log(
        `big sale: seeded ${p.bigRows} reservations; warming up (the reconciler adopts them once)`,
      );
      await scenario(
        ctx,
        'reservation',
        'big-sale-warmup',
        { MODE: 'rate', RATE: '100', DURATION: '5s' },
        big,
      );
      // The measured step is the steady state of a big sale, not its adoption: wait until Redis
      // holds every seeded holder (the reconciler pages them in, 1,000 at a time, ADR 0030).
      const t0 = Date.now();
      await waitUntil('the seeded reservations adopted by Redis', 180_000, async () => {
        const r = await fetch(`${ctx.targets.reservation[0]}/v1/events/${big}/audit`, {
          headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        });
        const a = (await r.json()) as {
          capacity: number;
          sold: number;
          remainingRedis: number | null;
          drift: number;
        };
        return a.remainingRedis === a.capacity - a.sold && a.drift === 0;
      });
      log(`big sale: Redis holds all ${p.bigRows} seeded holders after ${Date.now() - t0} ms`);
      await sleep(3000);
      const rate = String(fixedRates[0]);
      results.bigSale = {
        reservation: [
          {
            ...(await scenario(
              ctx,
              'reservation',
              'big-sale-fresh',
              { MODE: 'rate', RATE: rate, DURATION: `${stepSec}s` },
              fresh,
            )),
            rate: Number(rate),
          },
          {
            ...(await scenario(
              ctx,
              'reservation',
              'big-sale-200k',
              { MODE: 'rate', RATE: rate, DURATION: `${stepSec}s` },
              big,
            )),
            rate: Number(rate),
          },
        ],
      };
    }

    const one = (k: string, s: System) => results[k]?.[s] as Figures | undefined;
    const ratio = (a?: number, b?: number) =>
      a !== undefined && b ? Math.round((a / b) * 100) / 100 : null;
    const big = results.bigSale?.reservation as Figures[] | undefined;
    const ratios = {
      openSaleVsCeiling: ratio(
        one('openSale', 'reservation')?.acceptedPerSec,
        one('openSale', 'ceiling')?.acceptedPerSec,
      ),
      openSaleVsBaseline: ratio(
        one('openSale', 'reservation')?.acceptedPerSec,
        one('openSale', 'baseline')?.acceptedPerSec,
      ),
      flashBurstVsCeiling: ratio(
        one('flashBurst', 'reservation')?.rps,
        one('flashBurst', 'ceiling')?.rps,
      ),
      flashBurstP99VsCeiling: ratio(
        one('flashBurst', 'reservation')?.p99Ms,
        one('flashBurst', 'ceiling')?.p99Ms,
      ),
      soldOutVsCeiling: ratio(one('soldOut', 'reservation')?.rps, one('soldOut', 'ceiling')?.rps),
      bigEventP99VsFresh: ratio(big?.[1]?.p99Ms, big?.[0]?.p99Ms),
    };
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load avg ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`;
    const report = {
      profile: profileName,
      processes: procs,
      at: new Date().toISOString(),
      machine,
      tookSec: Math.round((Date.now() - started) / 1000),
      scenarios: results,
      ratios,
    };
    mkdirSync(join(repoRoot, 'reports'), { recursive: true });
    writeFileSync(join(repoRoot, 'reports/bench.json'), JSON.stringify(report, null, 2));
    const doc = join(repoRoot, 'docs/benchmarks.md');
    // A subset of the scenarios has no comparable row.
    if (existsSync(doc) && scenarios.size === SCENARIOS.length && systems.length === 3)
      appendFileSync(
        doc,
        `| ${report.at.slice(0, 16)} | ${profileName} | ${procs} | ${machine} | ${one('openSale', 'reservation')?.acceptedPerSec ?? '-'} | ${one('openSale', 'ceiling')?.acceptedPerSec ?? '-'} | ${one('openSale', 'baseline')?.acceptedPerSec ?? '-'} | ${Object.values(
          ratios,
        )
          .map((r) => r ?? '-')
          .join(' / ')} |\n`,
      );
    console.log(
      '\nscenario            system         req/s  accepted/s     p50     p95     p99  errors dropped confirmed pgWrites invariants',
    );
    for (const [k, per] of Object.entries(results))
      for (const [s, f] of Object.entries(per))
        for (const x of Array.isArray(f) ? f : [f])
          console.log(
            `${k.padEnd(20)}${s.padEnd(12)}${String(x.rps).padStart(8)}${String(x.acceptedPerSec).padStart(12)}${String(x.p50Ms).padStart(8)}${String(x.p95Ms).padStart(8)}${String(x.p99Ms).padStart(8)}${String(x.errors).padStart(8)}${String(x.dropped).padStart(8)}${String(x.confirmed ?? '-').padStart(10)}${String(x.pgWrites ?? '-').padStart(9)} ${x.invariants ?? ''}${x.rate ? ` @${x.rate}/s` : ''}`,
          );
    console.log(`ratios ${JSON.stringify(ratios)}`);
    log(`done in ${report.tookSec}s; reports/bench.json written`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    await fleet.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
