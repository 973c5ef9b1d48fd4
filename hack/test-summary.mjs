// Prints the closing line of `make test`: the vitest counts plus the end-to-end checks that
// wrote a report (chaos-local, cluster-smoke), as "N passed, N failed".
import { existsSync, readFileSync } from 'node:fs';

let passed = 0;
let failed = 0;
const lines = [];
if (existsSync('reports/vitest.json')) {
  const v = JSON.parse(readFileSync('reports/vitest.json', 'utf8'));
  passed += v.numPassedTests;
  failed += v.numFailedTests;
  lines.push(
    `vitest: ${v.numPassedTests} passed, ${v.numFailedTests} failed, ${v.numPendingTests} skipped`,
  );
}
for (const [name, ok] of [
  ['chaos-local-short', (r) => r.violations?.length === 0],
  ['cluster-smoke', (r) => r.ok === true],
]) {
  const file = `reports/${name}.json`;
  if (!existsSync(file)) continue;
  const good = ok(JSON.parse(readFileSync(file, 'utf8')));
  if (good) passed++;
  else failed++;
  lines.push(`${name}: ${good ? 'passed' : 'FAILED'}`);
}
for (const l of lines) console.log(`  ${l}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
