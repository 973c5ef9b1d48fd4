// make chaos [PROFILE=short|full] [PARALLELISM=N] [NAMESPACE=...]: while an Indexed Job of k6 pods
// sends the chaos load (repeated clicks on sales that open in waves), a random reservation pod is
// deleted or evicted every few seconds (alternating; evictions respect the PodDisruptionBudget),
// the Redis, NATS and Postgres pods are hit once each (Redis with grace period 0), and the release
// is upgraded (a rolling update). Every answer a client got comes back as a k6 log line; after the
// queue drains, I1–I6 are checked per user against Postgres with the same checker as
// `make chaos-local`. Writes reports/chaos-cluster.json; exits 1 on a violation.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { repoRoot } from '@flashsale/testbed';
import {
  Client,
  auditWhenDrained,
  combine,
  fromAudit,
  judge,
  openStores,
  readSnapshot,
  settle,
  type Verdict,
} from '@flashsale/invariants';
import { Disruptor, until } from './faults.js';
import { k6Image } from './image.js';
import { K6Job } from './k6-job.js';
import { forwardPort, loadKube } from './kube.js';
import { atExit, guard, runCleanups } from './lifecycle.js';
import { K6_DIR, readOptions } from './options.js';
import { ServiceClient, createSales, loadProfile, type Sale } from './sales.js';
import { histories, stats } from './samples.js';
import { findTarget, podsOf, waitAllReady } from './target.js';

const t0 = Date.now();
const log = (msg: string) =>
  process.stderr.write(`[chaos ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

async function main(): Promise<number> {
  const o = readOptions({
    namespace: 'flashsale-load',
    scenario: 'chaos',
    profile: 'short',
    parallelism: '2',
    timeoutS: '1200',
    drainTimeoutS: '120',
    killEveryS: '4',
  });
  guard(o.timeoutS, log);
  const { shape } = loadProfile('chaos', o.profile);
  const durationMs = (shape.durationS ?? 30) * 1000;
  const kc = loadKube(o.kubeconfig);
  const target = await findTarget(kc, o.namespace);
  const image = k6Image(o.image);
  const runId = randomBytes(4).toString('hex');
  log(
    `profile ${o.profile}: ${shape.users} users for ${shape.tickets} tickets in ${shape.waves} sales over ${shape.durationS}s from ${o.parallelism} k6 pods, on ${o.namespace}; run ${runId}`,
  );
  const job = new K6Job({
    kc,
    namespace: o.namespace,
    runId,
    image,
    scenario: 'chaos',
    profile: o.profile,
    parallelism: o.parallelism,
    env: { BASE_URL: target.baseUrl, DRAIN_TIMEOUT_S: String(o.drainTimeoutS) },
    adminSecret: target.adminSecret,
    scriptDir: K6_DIR,
    deadlineS: Math.min(o.timeoutS, durationMs / 1000 + o.drainTimeoutS + 300),
    log,
  });
  const client = new ServiceClient(kc, target);
  atExit(async () => {
    client.close();
    await job.cleanup();
  });
  await job.create();
  await job.waitPaused(240_000);
  const loadStart = Date.now() + 3000;
  const sales = await createSales(client, 'chaos', runId, shape, loadStart);
  log(
    `${sales.length} sales created, opening at +${sales.map((s) => ((s.opensAt - loadStart) / 1000).toFixed(1)).join('s, +')}s`,
  );
  await sleep(Math.max(0, loadStart - Date.now()));
  await job.resume();

  // The faults run while the load does. Each dependency is hit 300 ms after a wave opens, while
  // its tickets are being decided and committed; the upgrade comes between waves.
  let loadOver = false;
  const d = new Disruptor(kc, o.namespace, o.kubeconfig, loadStart, log);
  const strike = (w: number) => (sales[Math.min(w, sales.length - 1)] as Sale).opensAt + 300;
  const dependencyFaults = (async () => {
    const plan = [
      { at: strike(1), act: () => d.disrupt('redis', 'delete', 0) },
      {
        at: strike(1) + 0.4 * (strike(2) - strike(1)),
        act: () => d.upgrade(o.release || undefined, runId),
      },
      { at: strike(2), act: () => d.disrupt('nats', 'evict') },
      { at: strike(3), act: () => d.disrupt('postgres', 'delete') },
    ];
    // Each fault starts on time without waiting for the one before (a helm upgrade takes a
    // while: its migration hook runs first); all are awaited before the verdict.
    const started: Promise<unknown>[] = [];
    for (const f of plan) if (await until(f.at, () => loadOver)) started.push(f.act());
    await Promise.all(started);
  })();
  const podFaults = (async () => {
    let n = 0;
    for (;;) {
      const at = Date.now() + o.killEveryS * 1000 * (0.5 + Math.random());
      if (!(await until(Math.min(at, loadStart + durationMs), () => loadOver))) return;
      if (Date.now() >= loadStart + durationMs) return;
      // Alternate the two ways a pod goes: deleted (the first one at once, grace 0) and evicted.
      await d.disrupt('reservation', n % 2 === 0 ? 'delete' : 'evict', n === 0 ? 0 : undefined);
      n++;
    }
  })();
  const result = await job.wait(
    (o.timeoutS - (Date.now() - t0) / 1000 - o.drainTimeoutS - 60) * 1000,
  );
  loadOver = true;
  await Promise.all([dependencyFaults, podFaults]);
  const s = stats(result.answers);
  log(
    `load done: ${s.requests} answers in ${result.loadSeconds.toFixed(1)}s ${JSON.stringify(s.byStatus)}; ${d.faults.length} faults`,
  );

  if (!(await waitAllReady(kc, o.namespace, 180_000, log)))
    log('not every workload is Ready again after 180 s; checking anyway');
  const users = histories(
    result.answers,
    sales.map((x) => x.id),
  );

  // The checker talks to the service and to Postgres from here, through port-forwards to a
  // Ready reservation pod and to the Postgres pod.
  const dbUrl = target.databaseUrl;
  if (!dbUrl) throw new Error(`the reservation Deployment in ${o.namespace} has no DATABASE_URL`);
  const pgPod = (await podsOf(kc, o.namespace, 'postgres'))[0]?.metadata?.name;
  const apiPod = (await podsOf(kc, o.namespace, 'reservation'))[0]?.metadata?.name;
  if (!pgPod || !apiPod) throw new Error('no running Postgres or reservation pod to check against');
  const pgFwd = await forwardPort(kc, o.namespace, pgPod, Number(new URL(dbUrl).port || 5432));
  const apiFwd = await forwardPort(kc, o.namespace, apiPod, target.podPort);
  atExit(async () => {
    pgFwd.server.close();
    apiFwd.server.close();
  });
  const local = new URL(dbUrl);
  local.hostname = '127.0.0.1';
  local.port = String(pgFwd.port);
  const checker = new Client([`http://127.0.0.1:${apiFwd.port}`], 32);
  await settle(checker, users, {
    timeoutMs: o.drainTimeoutS * 1000,
    onProgress: (n) => log(`drain: ${n} named reservations still undecided`),
  });
  const stores = await openStores({ databaseUrl: local.toString() });
  const verdicts: Verdict[] = [];
  try {
    for (const sale of users) {
      const audit = await auditWhenDrained(checker, sale.eventId, target.adminToken, {
        timeoutMs: o.drainTimeoutS * 1000,
        onWait: (a) =>
          log(
            `drain: sale ${sale.eventId.slice(0, 8)}: pendingInQueue=${String(a.body.pendingInQueue)} drift=${String(a.body.drift)}`,
          ),
      });
      log(`audit: ${JSON.stringify(audit.body)}`);
      // Postgres is read directly; Redis and the queue through the service's audit (the figure
      // the checker compares is the same; the chart's Redis may need credentials we do not hold).
      const pending = audit.body.pendingInQueue;
      const snapshot = await readSnapshot({
        sql: stores.sql,
        eventId: sale.eventId,
        pendingInQueue: typeof pending === 'number' ? pending : null,
      });
      verdicts.push(judge(sale.users.values(), { ...snapshot, ...fromAudit(audit.body) }));
    }
  } finally {
    checker.close();
    await stores.close();
  }
  const verdict = combine(verdicts);
  verdict.attempts = s.requests;
  const faults = d.faults;
  const podDeletions = faults.filter(
    (f) => (f.kind === 'delete' || f.kind === 'evict') && f.result === 'done',
  ).length;
  const upgradeDuringLoad = faults.some((f) => f.kind === 'upgrade' && f.result === 'done');
  for (const role of ['redis', 'nats', 'postgres'] as const)
    if (!faults.some((f) => f.target === role && f.result === 'done'))
      verdict.violations.push(`the ${role} pod was not disrupted`);
  if (!upgradeDuringLoad) verdict.violations.push('the upgrade during the load did not happen');
  if (!faults.some((f) => f.kind === 'evict' && f.target === 'reservation'))
    verdict.violations.push('no reservation pod eviction was tried');
  const errors = faults.filter((f) => f.result === 'error');
  if (errors.length) verdict.violations.push(`${errors.length} faults failed to apply`);
  if (result.pods.length < o.parallelism) verdict.violations.push('not every k6 pod ran');

  const report = {
    profile: o.profile,
    namespace: o.namespace,
    k6Pods: result.pods.length,
    podDeletions,
    upgradeDuringLoad,
    attempts: verdict.attempts,
    oversold: verdict.oversold,
    duplicateHolders: verdict.duplicateHolders,
    lostAcceptances: verdict.lostAcceptances,
    untruthful: verdict.untruthful,
    accepted: verdict.accepted,
    confirmed: verdict.confirmed,
    rejected: verdict.rejected,
    sold: verdict.sold,
    capacity: verdict.capacity,
    undersold: verdict.undersold,
    drift: verdict.drift,
    stillPending: verdict.stillPending,
    checks: Object.fromEntries(
      Object.entries(verdict.checks).map(([k, c]) => [
        k,
        { ok: c.ok, count: c.count, summary: c.summary, examples: c.examples },
      ]),
    ),
    evictionsRefusedByPdb: faults.filter((f) => f.result === 'refused').length,
    faultLog: faults,
    answers: s.byStatus,
    p95Ms: s.p95Ms,
    p99Ms: s.p99Ms,
    loadSeconds: Math.round(result.loadSeconds * 10) / 10,
    violations: verdict.violations,
    ok: verdict.violations.length === 0,
    runId,
  };
  const out = o.report ?? join(repoRoot, 'reports', 'chaos-cluster.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(
    `chaos ${o.profile} in the cluster: ${report.ok ? 'PASS' : 'FAIL'} attempts=${report.attempts} podDeletions=${podDeletions} (evictions refused by the PDB: ${report.evictionsRefusedByPdb}) upgradeDuringLoad=${upgradeDuringLoad} accepted=${report.accepted} confirmed=${report.confirmed} rejected=${report.rejected} sold=${report.sold}/${report.capacity} oversold=${report.oversold} duplicateHolders=${report.duplicateHolders} lostAcceptances=${report.lostAcceptances} untruthful=${report.untruthful} undersold=${report.undersold} drift=${report.drift} (${out})`,
  );
  for (const v of verdict.violations) console.log(`  violation: ${v}`);
  return report.ok ? 0 : 1;
}

main()
  .then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exitCode = 1;
    },
  )
  .finally(() => runCleanups());
