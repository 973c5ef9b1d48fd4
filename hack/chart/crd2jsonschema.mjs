// Turns the chart's CRDs (charts/flashsale/crds/*.yaml) into the standalone JSON schemas kubeconform
// reads offline, named <kind>-<group>-<version>.json like the Kubernetes ones, so the chart's own
// custom resources (the default ReservationAutoscaler) are validated against their CRD's
// structural schema rather than skipped. Strict as openapi2jsonschema.mjs: declared properties only.
// CEL rules (x-kubernetes-validations) are the API server's; the bad-values table covers min <= max.
// Usage: node hack/chart/crd2jsonschema.mjs CRD_DIR OUT_DIR
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';

const [crdDir, outDir] = process.argv.slice(2);
if (!crdDir || !outDir) {
  console.error('usage: crd2jsonschema.mjs CRD_DIR OUT_DIR');
  process.exit(2);
}

/** Makes objects with declared properties refuse unknown keys, as the API server prunes them. */
function strict(node) {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = strict(v);
  if (out.properties && out.type === 'object' && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties ??= false;
  }
  return out;
}

mkdirSync(outDir, { recursive: true });
let n = 0;
for (const f of readdirSync(crdDir).filter((f) => /\.ya?ml$/.test(f))) {
  for (const crd of yaml.loadAll(readFileSync(join(crdDir, f), 'utf8'))) {
    if (crd?.kind !== 'CustomResourceDefinition') continue;
    const { group, names, versions } = crd.spec;
    for (const v of versions) {
      const schema = strict(v.schema.openAPIV3Schema);
      schema.properties = {
        ...schema.properties,
        apiVersion: { type: 'string', enum: [`${group}/${v.name}`] },
        kind: { type: 'string', enum: [names.kind] },
        metadata: { type: 'object' },
      };
      schema.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind'])];
      const file = `${names.kind}-${group.split('.')[0]}-${v.name}.json`.toLowerCase();
      writeFileSync(join(outDir, file), `${JSON.stringify(schema)}\n`);
      n++;
    }
  }
}
console.error(`crd2jsonschema: ${n} schemas in ${outDir}`);
