// make k6 SCENARIO=burst|ramp|soak PARALLELISM=N [PROFILE=short|full] [NAMESPACE=...]: the k6
// scripts of k8s-tests/k6 as an Indexed Job of N pods in the cluster, each running one execution
// segment of the load. The pods start paused and are resumed together; every answer comes back as
// one log line, and the thresholds are judged here on the merged samples of all pods (percentiles
// of several pods cannot be combined). Writes reports/k6-cluster.json; exits 1 when a threshold
// or an audit check fails.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from '@flashsale/testbed';
import { k6Image } from './image.js';
import { K6Job } from './k6-job.js';
import { loadKube } from './kube.js';
import { atExit, guard, runCleanups } from './lifecycle.js';
import { K6_DIR, readOptions } from './options.js';
import { ServiceClient, createSales, loadProfile, loadSeconds } from './sales.js';
import { judge, stats } from './samples.js';
import { findTarget } from './target.js';

const t0 = Date.now();
const log = (msg: string) =>
  process.stderr.write(`[k6 ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

async function main(): Promise<number> {
  const o = readOptions({
    namespace: 'flashsale-load',
    scenario: 'burst',
    profile: 'short',
    parallelism: '2',
    timeoutS: '900',
    drainTimeoutS: '90',
    killEveryS: '4',
  });
  guard(o.timeoutS, log);
  const { shape, thresholds } = loadProfile(o.scenario, o.profile);
  const kc = loadKube(o.kubeconfig);
  const target = await findTarget(kc, o.namespace);
  const image = k6Image(o.image);
  const runId = randomBytes(4).toString('hex');
  log(
    `${o.scenario} (${o.profile}) on ${o.namespace}/${target.serviceRef} with ${o.parallelism} pods of ${image}; run ${runId}`,
  );
  const job = new K6Job({
    kc,
    namespace: o.namespace,
    runId,
    image,
    scenario: o.scenario,
    profile: o.profile,
    parallelism: o.parallelism,
    env: { BASE_URL: target.baseUrl, DRAIN_TIMEOUT_S: String(o.drainTimeoutS) },
    adminSecret: target.adminSecret,
    scriptDir: K6_DIR,
    deadlineS: Math.min(o.timeoutS, loadSeconds(shape) + o.drainTimeoutS + 300),
    log,
  });
  const client = new ServiceClient(kc, target);
  atExit(async () => {
    client.close();
    await job.cleanup();
  });
  await job.create();
  await job.waitPaused(240_000);
  const sales = await createSales(client, o.scenario, runId, shape, Date.now());
  log(
    `sale ${sales.map((s) => s.id).join(', ')}: ${shape.tickets} tickets for ${shape.users} users`,
  );
  await job.resume();
  const result = await job.wait((o.timeoutS - (Date.now() - t0) / 1000 - 30) * 1000);

  const s = stats(result.answers);
  const failures = judge(s, thresholds);
  const audits = result.audits;
  if (audits.length === 0) failures.push('no pod reported the audit checks');
  for (const a of audits.filter((x) => !x.ok))
    failures.push(`audit of sale ${a.e + 1} failed: ${JSON.stringify(a.audit)}`);
  for (const p of result.pods.filter((x) => x.exitCode !== 0))
    failures.push(`pod ${p.name} exited ${p.exitCode}: ${p.tail.slice(-3).join(' | ')}`);
  if (!result.complete) failures.push('the Job did not complete');
  if (o.scenario === 'burst' && s.requests < shape.users)
    failures.push(`only ${s.requests} of ${shape.users} users were answered in time`);
  const rps = Math.round((s.requests / result.loadSeconds) * 10) / 10;
  const report = {
    scenario: o.scenario,
    profile: o.profile,
    namespace: o.namespace,
    pods: result.pods.length,
    requests: s.requests,
    rps,
    p50Ms: s.p50Ms,
    p95Ms: s.p95Ms,
    p99Ms: s.p99Ms,
    maxMs: s.maxMs,
    errorRate: Math.round(s.errorRate * 10000) / 10000,
    thresholds,
    thresholdsPassed: failures.length === 0,
    failures,
    byStatus: s.byStatus,
    perPod: result.pods.map((p) => ({
      name: p.name,
      index: p.index,
      answers: p.answers,
      exitCode: p.exitCode,
    })),
    audits,
    loadSeconds: Math.round(result.loadSeconds * 10) / 10,
    runId,
  };
  const out = o.report ?? join(repoRoot, 'reports', 'k6-cluster.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(
    `k6 ${o.scenario} (${o.profile}) on ${report.pods} pods: ${report.thresholdsPassed ? 'PASS' : 'FAIL'} requests=${s.requests} rps=${rps} p50=${s.p50Ms}ms p95=${s.p95Ms}ms p99=${s.p99Ms}ms errors=${(s.errorRate * 100).toFixed(2)}% answers=${JSON.stringify(s.byStatus)} (${out})`,
  );
  console.log(
    `  thresholds: p95<${thresholds.p95Ms}ms p99<${thresholds.p99Ms}ms errors<${thresholds.errorRate * 100}%, judged on ${s.requests} merged samples`,
  );
  for (const f of failures) console.log(`  failed: ${f}`);
  return failures.length === 0 ? 0 : 1;
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
