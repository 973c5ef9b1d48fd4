// Compares the RBAC the chart renders for the operator with operator/deploy/rbac.yaml, the rules the
// operator's own RBAC test runs it with: each ClusterRole and Role must have the same rules, the
// names shifted by the chart's prefix (flashsale-operator there, <release>-operator here).
// Usage: helm template ... --show-only templates/operator/rbac.yaml | node rbac-equal.mjs RBAC_YAML
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const [reference] = process.argv.slice(2);
if (!reference) {
  console.error('usage: rbac-equal.mjs RBAC_YAML < rendered.yaml');
  process.exit(2);
}

/** kind → sorted rules (resourceNames replaced by a placeholder: the Lease name is the prefix's). */
function rules(text) {
  const out = {};
  for (const doc of yaml.loadAll(text)) {
    if (doc?.kind !== 'ClusterRole' && doc?.kind !== 'Role') continue;
    out[doc.kind] = (doc.rules ?? [])
      .map((r) => ({ ...r, resourceNames: r.resourceNames?.map(() => '<lease>') }))
      .map((r) => JSON.stringify(r, Object.keys(r).sort()))
      .sort();
  }
  return out;
}

const want = rules(readFileSync(reference, 'utf8'));
const got = rules(readFileSync(0, 'utf8'));
const a = JSON.stringify(want, null, 1);
const b = JSON.stringify(got, null, 1);
if (a !== b) {
  console.error(`the chart's operator RBAC differs from ${reference}:\nwant ${a}\ngot  ${b}`);
  process.exit(1);
}
console.error(`rbac-equal: ${Object.keys(want).join(' and ')} rules equal`);
