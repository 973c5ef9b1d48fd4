// Compares the RBAC the chart renders for the operator with operator/deploy/rbac.yaml, the rules the
// operator's own RBAC test runs it with: the operator's role (a Role by default, a ClusterRole when
// it watches every namespace) and its leader-election Role must have the same rules, the names
// shifted by the chart's prefix (flashsale-operator there, <release>-operator here).
// Usage: helm template ... --show-only templates/operator/rbac.yaml |
//          node rbac-equal.mjs RBAC_YAML [Role|ClusterRole]
// The optional kind is what the rendered operator role must be (the reference's is always a Role).
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const [reference, kind] = process.argv.slice(2);
if (!reference || (kind && kind !== 'Role' && kind !== 'ClusterRole')) {
  console.error('usage: rbac-equal.mjs RBAC_YAML [Role|ClusterRole] < rendered.yaml');
  process.exit(2);
}

/**
 * purpose ("operator" or "leader-election") → {kind, sorted rules}; resourceNames replaced by a
 * placeholder (the Lease name is the prefix's).
 */
function roles(text) {
  const out = {};
  for (const doc of yaml.loadAll(text)) {
    if (doc?.kind !== 'ClusterRole' && doc?.kind !== 'Role') continue;
    const purpose = doc.metadata.name.endsWith('-leader-election') ? 'leader-election' : 'operator';
    out[purpose] = {
      kind: doc.kind,
      rules: (doc.rules ?? [])
        .map((r) => ({ ...r, resourceNames: r.resourceNames?.map(() => '<lease>') }))
        .map((r) => JSON.stringify(r, Object.keys(r).sort()))
        .sort(),
    };
  }
  return out;
}

const want = roles(readFileSync(reference, 'utf8'));
const got = roles(readFileSync(0, 'utf8'));
const rulesOf = (x) =>
  JSON.stringify(Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.rules])), null, 1);
const a = rulesOf(want);
const b = rulesOf(got);
if (a !== b) {
  console.error(`the chart's operator RBAC differs from ${reference}:\nwant ${a}\ngot  ${b}`);
  process.exit(1);
}
if (got['leader-election']?.kind !== 'Role') {
  console.error(
    `the leader-election role must be a namespaced Role, got ${got['leader-election']?.kind}`,
  );
  process.exit(1);
}
if (kind && got.operator?.kind !== kind) {
  console.error(`the operator's role must be a ${kind} here, got ${got.operator?.kind}`);
  process.exit(1);
}
console.error(
  `rbac-equal: operator (${got.operator?.kind}) and leader-election (Role) rules equal to ${reference}`,
);
