// make chaos-local: several reservation service processes against real local Postgres, Redis and
// NATS; a paced load of many users; meanwhile service processes are killed -9 and restarted, Redis
// loses its data once, NATS and Postgres are killed and restarted once. Then the queue drains and
// the invariants are checked from what each client was told and from the database.
//
// Usage: tsx k8s-tests/src/chaos/chaos-local.ts [--profile=full|short] [--report=path]
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Stack, repoRoot, run } from '@flashsale/testbed';
import {
  Client,
  combine,
  createEvent,
  crowd,
  openStores,
  runCrowd,
  settle,
  verifySale,
  type CrowdResult,
  type Verdict,
} from '@flashsale/invariants';
import { Fleet } from './fleet.js';
import {
  PROFILES,
  pickSale,
  waveCapacities,
  waveOpensAtMs,
  type Profile,
  type Sale,
} from './profiles.js';

const ADMIN_TOKEN = `chaos-${randomUUID()}`;
const t0 = Date.now();
const log = (msg: string) =>
  process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

interface Fault {
  atMs: number;
  kind: 'kill-service' | 'redis-wipe' | 'nats-restart' | 'postgres-restart';
  target: string;
  tookMs: number;
  error?: string;
}

function arg(name: string): string | undefined {
  return process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** Runs the fault schedule until `done` resolves; every fault is recorded, none is skipped silently. */
async function injectFaults(
  p: Profile,
  stack: Stack,
  fleet: Fleet,
  loadStart: number,
  done: Promise<unknown>,
): Promise<Fault[]> {
  const faults: Fault[] = [];
  let finished = false;
  void done.finally(() => (finished = true));
  // Each dependency fault strikes 300 ms after a wave opens, while its tickets are being decided.
  const strike = (wave: number) => waveOpensAtMs(p, Math.min(wave, p.waves - 1)) + 300;
  const once = [
    {
      at: strike(1),
      kind: 'redis-wipe' as const,
      target: 'redis',
      act: () => stack.restart('redis', { wipe: true }),
    },
    {
      at: strike(2),
      kind: 'nats-restart' as const,
      target: 'nats',
      act: () => stack.restart('nats'),
    },
    {
      at: strike(3),
      kind: 'postgres-restart' as const,
      target: 'postgres',
      act: () => stack.restart('postgres'),
    },
  ];

  const dependencyFaults = (async () => {
    for (const f of once) {
      const wait = loadStart + f.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (finished) break;
      const start = Date.now();
      log(`fault: ${f.kind}`);
      try {
        await f.act();
        faults.push({
          atMs: start - loadStart,
          kind: f.kind,
          target: f.target,
          tookMs: Date.now() - start,
        });
      } catch (err) {
        faults.push({
          atMs: start - loadStart,
          kind: f.kind,
          target: f.target,
          tookMs: Date.now() - start,
          error: String(err),
        });
      }
    }
  })();
  const serviceKills = (async () => {
    while (!finished) {
      await sleep(p.killEveryMs * (0.5 + Math.random()));
      if (finished) break;
      const start = Date.now();
      try {
        const index = await fleet.crashOne(p.restartDelayMs);
        log(`fault: kill -9 service ${index} (back after ${Date.now() - start} ms)`);
        faults.push({
          atMs: start - loadStart,
          kind: 'kill-service',
          target: `service-${index}`,
          tookMs: Date.now() - start,
        });
      } catch (err) {
        faults.push({
          atMs: start - loadStart,
          kind: 'kill-service',
          target: '?',
          tookMs: Date.now() - start,
          error: String(err),
        });
      }
    }
  })();
  await Promise.all([dependencyFaults, serviceKills]);
  return faults;
}

async function main(): Promise<void> {
  const profile = PROFILES[(arg('profile') ?? 'full') as Profile['name']];
  if (!profile)
    throw new Error(
      `unknown profile ${arg('profile')}; known: ${Object.keys(PROFILES).join(', ')}`,
    );
  const reportPath =
    arg('report') ??
    join(
      repoRoot,
      'reports',
      profile.name === 'full' ? 'chaos-local.json' : 'chaos-local-short.json',
    );
  log(
    `profile ${profile.name}: ${profile.services} services, ${profile.attempts} attempts by ${profile.distinctUsers} users for ${profile.capacity} tickets over ${profile.durationMs / 1000}s`,
  );

  const stack = await Stack.start({
    servers: ['postgres', 'redis', 'nats'],
    reapWhenGone: process.pid,
    log: (l) => log(`testbed: ${l}`),
  });
  const env = stack.env;
  const serviceEnv: Record<string, string> = {
    DATABASE_URL: env.TESTBED_POSTGRES_URL as string,
    REDIS_URL: env.TESTBED_REDIS_URL as string,
    NATS_URL: env.TESTBED_NATS_URL as string,
    ADMIN_TOKEN,
    ROLE: 'both',
    LOG_LEVEL: 'warn',
    // One client address sends everything here: the per-IP limit would throttle the whole run.
    RATE_LIMIT_IP_PER_SEC: '0',
  };
  const fleet = new Fleet(serviceEnv, stack.root);
  let client: Client | undefined;
  let exitCode = 1;
  try {
    log('migrating the database');
    await run(process.execPath, [join(repoRoot, 'services/reservation/dist/migrate.js')], {
      env: { ...process.env, ...serviceEnv },
    });
    await fleet.start(profile.services);
    await fleet.ready(60_000);
    log(`${profile.services} service processes ready on ports ${fleet.ports.join(', ')}`);
    client = new Client(
      fleet.ports.map((p) => `http://127.0.0.1:${p}`),
      profile.concurrency,
    );
    // The sales open in waves during the load; planned a little ahead so creating them fits in.
    const loadStart = Date.now() + 2000;
    const sales: Sale[] = [];
    const capacities = waveCapacities(profile);
    const perWave = capacities[0] ?? 0;
    for (const [k, capacity] of capacities.entries()) {
      const opensAtMs = waveOpensAtMs(profile, k);
      const created = await createEvent(client, ADMIN_TOKEN, {
        name: `chaos ${profile.name} wave ${k + 1}`,
        capacity,
        saleStartsAt: new Date(loadStart + opensAtMs).toISOString(),
      });
      sales.push({ eventId: created.id, opensAtMs });
    }
    log(
      `${profile.waves} sales of ${perWave} tickets, opening every ${((waveOpensAtMs(profile, 1) - waveOpensAtMs(profile, 0)) / 1000).toFixed(1)}s`,
    );
    await sleep(Math.max(0, loadStart - Date.now()));
    log('load starts');

    const runId = randomUUID().slice(0, 8);
    const userIds = Array.from({ length: profile.distinctUsers }, (_, i) => `u-${runId}-${i}`);
    const loadDone: Promise<CrowdResult> = runCrowd({
      client,
      clicks: crowd(userIds, profile.attempts, 'random'),
      saleFor: (_, atMs) => pickSale(sales, atMs).eventId,
      concurrency: profile.concurrency,
      durationMs: profile.durationMs,
      // One request in five waits for its decision (201 / 409 sold_out instead of 202).
      waitMs: (i) => (i % 5 === 0 ? 1500 : undefined),
      onProgress: (done, r) =>
        log(`load: ${done}/${r.attempts} sent, answers ${JSON.stringify(r.byStatus)}`),
    });
    const [load, faults] = await Promise.all([
      loadDone,
      injectFaults(profile, stack, fleet, loadStart, loadDone),
    ]);
    log(
      `load done: ${load.attempts} attempts in ${(load.elapsedMs / 1000).toFixed(1)}s, answers ${JSON.stringify(load.byStatus)}; ${faults.length} faults`,
    );

    await fleet.ready(60_000);
    // Every named reservation of every sale is polled until decided, then each sale is judged
    // once its queue is empty (messages held by a process killed with -9 come back only after the
    // ack wait, although their users may already have been told the final answer).
    const histories = sales.map(
      (s) => load.histories.get(s.eventId) ?? { eventId: s.eventId, users: new Map() },
    );
    await settle(client, histories, {
      timeoutMs: profile.drainTimeoutMs,
      onProgress: (n) => log(`drain: ${n} named reservations still undecided`),
    });
    const stores = await openStores({
      databaseUrl: serviceEnv.DATABASE_URL as string,
      redisUrl: serviceEnv.REDIS_URL as string,
    });
    const verdicts: Verdict[] = [];
    try {
      for (const sale of histories) {
        const { verdict, audit } = await verifySale({
          client,
          adminToken: ADMIN_TOKEN,
          sale,
          ...stores,
          timeoutMs: profile.drainTimeoutMs,
          log: (l) => log(`drain: ${l}`),
        });
        log(`audit: ${JSON.stringify(audit.body)}`);
        verdicts.push(verdict);
      }
    } finally {
      await stores.close();
    }
    const verdict = combine(verdicts);
    const failedFaults = faults.filter((f) => f.error);
    if (failedFaults.length)
      verdict.violations.push(`${failedFaults.length} faults could not be injected`);
    if (faults.filter((f) => f.kind !== 'kill-service').length < 3)
      verdict.violations.push('not every dependency fault ran');
    const report = {
      profile: profile.name,
      services: profile.services,
      distinctUsers: profile.distinctUsers,
      waves: profile.waves,
      ...verdict,
      faults: faults.length,
      faultLog: faults,
      answers: load.byStatus,
      loadSeconds: load.elapsedMs / 1000,
      ok: verdict.violations.length === 0,
    };
    mkdirSync(dirname(reportPath), { recursive: true });
    writeFileSync(reportPath, JSON.stringify(report, null, 2) + '\n');
    console.log(
      `chaos-local ${profile.name}: ${report.ok ? 'PASS' : 'FAIL'} attempts=${verdict.attempts} accepted=${verdict.accepted} confirmed=${verdict.confirmed} rejected=${verdict.rejected} faults=${faults.length} sold=${verdict.sold}/${verdict.capacity} oversold=${verdict.oversold} duplicateHolders=${verdict.duplicateHolders} lostAcceptances=${verdict.lostAcceptances} undersold=${verdict.undersold} untruthful=${verdict.untruthful} drift=${verdict.drift} stillPending=${verdict.stillPending} (${reportPath})`,
    );
    for (const v of verdict.violations) console.log(`  violation: ${v}`);
    exitCode = report.ok ? 0 : 1;
  } finally {
    client?.close();
    await fleet.stop();
    await stack.stop();
  }
  process.exitCode = exitCode;
}

main().catch((err: unknown) => {
  log(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
