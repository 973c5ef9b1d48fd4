// node hack/chart/skaffold-check.mjs SCHEMA_DIR HELM KUBE_VERSION: checks skaffold.yaml without
// skaffold (make chart-test, step `skaffold`). For the config as written and with each profile's
// patches applied:
//   - it validates against skaffold's own JSON schema for its apiVersion (SCHEMA_DIR holds the
//     schemas of the skaffold release in hack/versions.env, fetched by make tools);
//   - every artifact's Dockerfile exists and its WORKSPACE build argument is a workspace of the
//     root package.json;
//   - every Helm release's chart and values files exist, and `helm template` renders it with the
//     values the config sets (image templates filled with stand-ins), so the chart's schema accepts
//     them;
//   - every port-forward names a Service that rendering makes.
// Prints one line per finding and a summary; exit 1 when anything is wrong.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import yaml from 'js-yaml';

const [schemaDir, helm, kubeVersion] = process.argv.slice(2);
if (!schemaDir || !helm || !kubeVersion) {
  console.error('usage: skaffold-check.mjs SCHEMA_DIR HELM KUBE_VERSION');
  process.exit(2);
}
const root = fileURLToPath(new URL('../../', import.meta.url));
const config = yaml.load(readFileSync(join(root, 'skaffold.yaml'), 'utf8'));
const workspaces = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).workspaces;
const problems = [];

/** Applies the JSON-patch operations skaffold profiles use (add, replace, remove) to a copy. */
function applyPatches(doc, patches) {
  const out = JSON.parse(JSON.stringify(doc));
  for (const p of patches ?? []) {
    const keys = p.path
      .split('/')
      .slice(1)
      .map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = keys.pop();
    let node = out;
    for (const k of keys) {
      if (node[k] === undefined) throw new Error(`profile patch ${p.op} ${p.path}: no ${k}`);
      node = node[k];
    }
    if (p.op === 'remove') {
      if (Array.isArray(node)) node.splice(Number(last), 1);
      else delete node[last];
    } else if (Array.isArray(node) && (last === '-' || p.op === 'add')) {
      if (last === '-') node.push(p.value);
      else node.splice(Number(last), 0, p.value);
    } else {
      node[last] = p.value;
    }
  }
  return out;
}

const version = String(config.apiVersion ?? '').replace('skaffold/', '');
const schemaFile = join(schemaDir, `${version}.json`);
if (!existsSync(schemaFile)) {
  console.error(`no schema for apiVersion ${config.apiVersion} in ${schemaDir}`);
  process.exit(1);
}
const ajv = new Ajv({ strict: false, allErrors: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, 'utf8')));

/** The stand-in for a Go template skaffold fills at deploy time ({{.IMAGE_TAG_x}} and the like). */
const fill = (v) =>
  String(v)
    .replace(/\{\{\s*\.IMAGE_REPO_[^}]*\}\}/g, 'example.org/flashsale/image')
    .replace(/\{\{\s*\.IMAGE_TAG_[^}]*\}\}@\{\{\s*\.IMAGE_DIGEST_[^}]*\}\}/g, 'dev')
    .replace(/\{\{\s*\.IMAGE_TAG_[^}]*\}\}/g, 'dev')
    .replace(/\{\{\s*\.IMAGE_DIGEST_[^}]*\}\}/g, 'sha256:0');

function check(name, doc) {
  if (!validate(doc)) {
    const seen = new Set();
    for (const e of validate.errors ?? []) {
      const extra = e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : '';
      const line = `${name}: schema ${e.instancePath || '/'} ${e.message}${extra}`;
      if (!seen.has(line)) problems.push(line);
      seen.add(line);
    }
  }
  for (const a of doc.build?.artifacts ?? []) {
    const df = join(root, a.context ?? '.', a.docker?.dockerfile ?? 'Dockerfile');
    if (!existsSync(df)) problems.push(`${name}: ${a.image}: no Dockerfile ${df}`);
    const ws = a.docker?.buildArgs?.WORKSPACE;
    if (ws !== undefined && !workspaces.includes(ws))
      problems.push(
        `${name}: ${a.image}: WORKSPACE ${ws} is not a workspace (${workspaces.join(', ')})`,
      );
  }
  const services = new Set();
  for (const r of doc.manifests?.helm?.releases ?? []) {
    const chart = join(root, r.chartPath ?? '');
    if (!existsSync(join(chart, 'Chart.yaml')))
      problems.push(`${name}: ${r.name}: no chart at ${r.chartPath}`);
    const args = [
      'template',
      r.name,
      chart,
      '-n',
      r.namespace ?? 'default',
      '--kube-version',
      kubeVersion,
    ];
    for (const f of r.valuesFiles ?? []) {
      if (!existsSync(join(root, f))) problems.push(`${name}: ${r.name}: no values file ${f}`);
      args.push('-f', join(root, f));
    }
    for (const [k, v] of Object.entries(r.setValueTemplates ?? {}))
      args.push('--set-string', `${k}=${fill(v)}`);
    for (const [k, v] of Object.entries(r.setValues ?? {})) args.push('--set', `${k}=${v}`);
    try {
      const out = execFileSync(helm, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      for (const d of yaml.loadAll(out))
        if (d?.kind === 'Service')
          services.add(`${d.metadata.namespace ?? r.namespace}/${d.metadata.name}`);
    } catch (err) {
      problems.push(
        `${name}: ${r.name}: helm template refused the values: ${String(err.stderr ?? err).trim()}`,
      );
    }
  }
  for (const pf of doc.portForward ?? []) {
    if (pf.resourceType === 'service' && !services.has(`${pf.namespace}/${pf.resourceName}`))
      problems.push(
        `${name}: port-forward to service ${pf.namespace}/${pf.resourceName}, which the chart does not make`,
      );
  }
  return services.size;
}

const main = () => {
  const checked = [`default (${check('default', config)} Services)`];
  for (const p of config.profiles ?? []) {
    try {
      checked.push(
        `profile ${p.name} (${check(`profile ${p.name}`, applyPatches(config, p.patches))} Services)`,
      );
    } catch (err) {
      problems.push(`profile ${p.name}: ${err.message}`);
    }
  }
  for (const p of problems) console.error(`skaffold.yaml: ${p}`);
  console.log(
    `skaffold.yaml ${config.apiVersion}: ${checked.join(', ')}: ${problems.length} problem(s)`,
  );
  process.exitCode = problems.length ? 1 : 0;
};
main();
