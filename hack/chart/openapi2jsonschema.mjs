// Turns the OpenAPI (v2) document of the exact Kubernetes version into the standalone JSON schemas
// kubeconform reads offline: one file per kind, named <kind>-<group>-<version>.json as kubeconform's
// {{ .ResourceKind }}{{ .KindSuffix }} expects, every $ref resolved into the file's own definitions.
// Strict: objects with declared properties refuse unknown keys (a typo in a manifest fails).
// Usage: node hack/chart/openapi2jsonschema.mjs SWAGGER_JSON OUT_DIR
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

const [swaggerPath, outDir] = process.argv.slice(2);
if (!swaggerPath || !outDir) {
  console.error('usage: openapi2jsonschema.mjs SWAGGER_JSON OUT_DIR');
  process.exit(2);
}
const swagger = JSON.parse(readFileSync(swaggerPath, 'utf8'));
const defs = swagger.definitions;

/** Rewrites one schema node: Kubernetes formats that YAML writes as numbers or strings, strictness. */
function fix(node) {
  if (Array.isArray(node)) return node.map(fix);
  if (node === null || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = fix(v);
  if (out.format === 'int-or-string') {
    delete out.type;
    delete out.format;
    out.oneOf = [{ type: 'string' }, { type: 'integer' }];
  }
  if (out.properties && out.type === 'object' && !out['x-kubernetes-preserve-unknown-fields']) {
    out.additionalProperties ??= false;
  }
  return out;
}

/** The names of every definition reachable from one. */
function reachable(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  const walk = (n) => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      for (const [k, v] of Object.entries(n)) {
        if (k === '$ref' && typeof v === 'string') reachable(v.replace('#/definitions/', ''), seen);
        else walk(v);
      }
    }
  };
  walk(defs[name]);
  return seen;
}

// Quantity and IntOrString are strings in the document; manifests write `cpu: 1` and `port: 8080`.
const special = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': {
    oneOf: [{ type: 'string' }, { type: 'number' }],
  },
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': {
    oneOf: [{ type: 'string' }, { type: 'integer' }],
  },
};

const tmp = `${outDir}.tmp`;
rmSync(tmp, { recursive: true, force: true });
mkdirSync(tmp, { recursive: true });
let n = 0;
for (const [name, def] of Object.entries(defs)) {
  for (const gvk of def['x-kubernetes-group-version-kind'] ?? []) {
    const group = gvk.group ? gvk.group.split('.')[0] : '';
    const suffix = group ? `-${group}-${gvk.version}` : `-${gvk.version}`;
    const file = `${tmp}/${gvk.kind.toLowerCase()}${suffix}.json`.toLowerCase();
    const definitions = {};
    for (const r of reachable(name)) definitions[r] = special[r] ?? fix(defs[r]);
    // apiVersion and kind are fixed for the file's kind: a wrong pair fails validation.
    const top = { ...definitions[name] };
    top.properties = {
      ...top.properties,
      apiVersion: {
        type: 'string',
        enum: [gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version],
      },
      kind: { type: 'string', enum: [gvk.kind] },
    };
    writeFileSync(file, JSON.stringify({ ...top, definitions }));
    n++;
  }
}
rmSync(outDir, { recursive: true, force: true });
renameSync(tmp, outDir);
console.error(`openapi2jsonschema: ${n} schemas in ${outDir}`);
