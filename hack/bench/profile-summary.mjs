#!/usr/bin/env node
// Summarises V8 CPU profiles (`node --cpu-prof`, as `BENCH_CPU_PROF=<dir> make bench` writes them):
// self time by package and by function, every profile in the folder summed, as shares of the
// sampled time. Usage: node hack/bench/profile-summary.mjs <dir> [--top N] [--json]
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const dir = args.find((a) => !a.startsWith('--'));
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
if (!dir || !Number.isInteger(top) || top <= 0) {
  console.error('usage: profile-summary.mjs <dir of .cpuprofile files> [--top N] [--json]');
  process.exit(2);
}
let files;
try {
  files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
} catch (err) {
  console.error(`profile-summary: cannot read ${dir}: ${err.message}`);
  process.exit(1);
}
if (!files.length) {
  console.error(`profile-summary: no .cpuprofile in ${dir}`);
  process.exit(1);
}

/** Where a frame's code lives: a package, the service's own code, node's internals or V8. */
function packageOf(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const m = /\/(services|k8s-tests|hack|operator|dashboard)\/([^/]+)\//.exec(url);
  return m ? `${m[1]}/${m[2]}` : url;
}

const byPackage = new Map();
const byFunction = new Map();
let total = 0;
for (const f of files) {
  const p = JSON.parse(readFileSync(join(dir, f), 'utf8'));
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  // Time per sample: the gap to the next sample (the last one gets the mean).
  const dt = p.timeDeltas ?? [];
  const mean = (p.endTime - p.startTime) / Math.max(p.samples.length, 1);
  p.samples.forEach((id, i) => {
    const n = nodes.get(id);
    const us = i + 1 < dt.length ? dt[i + 1] : mean;
    const { functionName, url, lineNumber } = n.callFrame;
    const name = functionName || '(anonymous)';
    const pkg = packageOf(url, name);
    const fn = `${name} ${pkg}${url && !url.includes('node_modules') ? `:${lineNumber + 1}` : ''}`;
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    total += us;
  });
}
const rows = (m) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => ({
      name: k,
      share: Math.round((us / total) * 1000) / 10,
      ms: Math.round(us / 1000),
    }));
const out = {
  files: files.length,
  sampledSeconds: Math.round(total / 1e4) / 100,
  byPackage: rows(byPackage),
  byFunction: rows(byFunction),
};
if (args.includes('--json')) {
  console.log(JSON.stringify(out, null, 2));
} else {
  console.log(`${out.files} profiles, ${out.sampledSeconds} s sampled`);
  for (const [title, list] of [
    ['self time by package', out.byPackage],
    ['self time by function', out.byFunction],
  ]) {
    console.log(`\n${title}`);
    for (const r of list)
      console.log(`${String(r.share).padStart(6)} %  ${String(r.ms).padStart(7)} ms  ${r.name}`);
  }
}
