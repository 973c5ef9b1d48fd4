// Prints the keys of a values file whose value differs from a release's installed values (helm get
// values -o json on stdin), one per line; exit 1 when any differs. Used by operator/e2e/run.sh to
// decide whether to upgrade the release with operator/e2e/values.yaml.
// Usage: helm get values R -n NS -o json | node values-differ.mjs VALUES_YAML
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const [file] = process.argv.slice(2);
if (!file) {
  console.error('usage: values-differ.mjs VALUES_YAML < installed.json');
  process.exit(2);
}
const want = yaml.load(readFileSync(file, 'utf8')) ?? {};
const got = JSON.parse(readFileSync(0, 'utf8') || '{}') ?? {};

/** Leaf paths of `w` whose value is not the same in `g`. */
function differ(w, g, path) {
  if (w !== null && typeof w === 'object' && !Array.isArray(w))
    return Object.entries(w).flatMap(([k, v]) => differ(v, g?.[k], path ? `${path}.${k}` : k));
  return JSON.stringify(w) === JSON.stringify(g)
    ? []
    : [`${path}=${JSON.stringify(w)} (installed: ${JSON.stringify(g)})`];
}

const d = differ(want, got, '');
for (const line of d) console.log(line);
process.exit(d.length ? 1 : 0);
