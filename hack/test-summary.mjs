// Prints the closing line of `make test` (hack/test.sh): "N passed, N failed".
// vitest contributes one count per test (reports/vitest.json); every other step that hack/test.sh
// ran (reports/steps.json) counts as one, passed when its exit code was 0 and, for the steps that
// write a report, when that report says so. A step that failed before vitest wrote its file still
// counts as one failure, so the line is true whatever broke. Exit code 1 when anything failed.
import { existsSync, readFileSync } from 'node:fs';

const readJson = (file) => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);

// Reports that must agree with a step's exit code: a step may exit 0 while its report says otherwise
// only through a bug, and then the report wins.
const REPORT_CHECKS = {
  'chaos-local-short': ['reports/chaos-local-short.json', (r) => r.violations?.length === 0],
  'cluster-smoke': ['reports/cluster-smoke.json', (r) => r.ok === true],
  'netpol-smoke': ['reports/netpol-smoke.json', (r) => r.enforced === true],
  e2e: ['reports/e2e-cluster.json', (r) => r.ok === true],
  'dashboard-e2e': [
    'reports/dashboard-e2e.json',
    (r) =>
      Array.isArray(r.checks) && r.checks.length > 0 && r.checks.every((c) => c.passed === true),
  ],
  'operator-e2e': [
    'reports/operator-e2e.json',
    (r) =>
      [
        'scaleUpDecisionSeconds',
        'preScaleLeadSeconds',
        'remediationSeconds',
        'failoverSeconds',
      ].every((k) => typeof r[k] === 'number') && r.heldDuringMetricsOutage === true,
  ],
  'kind-e2e': ['reports/kind-e2e.json', (r) => r.ok === true],
};

const steps = readJson('reports/steps.json') ?? [];
let passed = 0;
let failed = 0;
const lines = [];
for (const s of steps) {
  if (s.step === 'tools' || s.step === 'deps') {
    if (!s.passed) {
      failed++;
      lines.push(`${s.step}: FAILED (exit ${s.exitCode})`);
    }
    continue;
  }
  if (s.step === 'test-unit') {
    const v = readJson('reports/vitest.json');
    if (v) {
      passed += v.numPassedTests;
      failed += v.numFailedTests;
      // a suite that failed to load has no tests to count: count it as a failure
      const broken = (v.testResults ?? []).filter(
        (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
      ).length;
      failed += broken;
      lines.push(
        `vitest: ${v.numPassedTests} passed, ${v.numFailedTests + broken} failed, ${v.numPendingTests} skipped`,
      );
      if (!s.passed && v.numFailedTests + broken === 0) {
        failed++;
        lines.push(`test-unit: FAILED (exit ${s.exitCode}) though no test failed`);
      }
    } else {
      failed++;
      lines.push(`test-unit: FAILED (exit ${s.exitCode}, no reports/vitest.json)`);
    }
    continue;
  }
  let good = s.passed;
  const check = REPORT_CHECKS[s.step];
  if (good && check) {
    const report = readJson(check[0]);
    good = report !== undefined && check[1](report);
  }
  if (good) passed++;
  else failed++;
  lines.push(`${s.step}: ${good ? 'passed' : 'FAILED'} (${s.seconds}s)`);
}
for (const l of lines) console.log(`  ${l}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed || steps.length === 0 ? 1 : 0;
