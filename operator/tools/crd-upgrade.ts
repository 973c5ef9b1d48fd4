// The CRD upgrade step (`make crd-upgrade`, and `crdUpgrade` of `make e2e`): Helm installs crds/ on
// the first install only and never upgrades them, so this applies the chart's CRD server-side, waits
// until it is Established, and proves that the ReservationAutoscalers already stored stay readable.
//
// Two checks, both on the cluster it is pointed at:
// - compat: the chart's CRD applied over an OLDER stored schema (operator/tools/fixtures, the first
//   released CRD) under a throw-away API group, with objects written under the old schema first
//   (defaults persisted, every field set, a status): every object must still be served, parse with
//   the operator's own spec parser, keep its fields, and take a status write. The throw-away CRD is
//   deleted afterwards, so the real group is never downgraded on a shared cluster;
// - upgrade: the real CRD applied (field manager flashsale-crd-upgrade, conflicts forced: Helm's
//   create owns the fields), Established, and every existing ReservationAutoscaler of the cluster
//   listed and parsed before and after.
// Prints one JSON line on stdout (progress on stderr); exit 1 when any check failed.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadYaml,
  setHeaderOptions,
  type KubernetesListObject,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { isMain } from '../src/is-main.js';
import { parseSpec, type ReservationAutoscaler } from '../src/spec.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
/** The chart's CRDs (the same bytes as operator/deploy/crds, `make chart-test` checks it). */
export const CHART_CRDS = here('../../charts/flashsale/crds/');
/** The first released CRD (commit 12f25b9: targetBacklogPerReplica defaulted to 1000). */
export const OLDER_CRD = here('./fixtures/reservationautoscalers.flashsale.dev@12f25b9.yaml');
const FIELD_MANAGER = 'flashsale-crd-upgrade';
const MERGE = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errMsg = (e: unknown) => (e instanceof Error ? e.message : String(e));

export type Progress = (msg: string) => void;

export interface CompatResult {
  ok: boolean;
  from: string;
  objects: number;
  readable: number;
  problems: string[];
}

export interface UpgradeResult {
  ok: boolean;
  crd: string;
  established: boolean;
  storedVersions: string[];
  existingBefore: number;
  existingReadable: number;
  /** Objects the operator could not parse before the upgrade either (reported, not failed). */
  unreadableBefore: number;
  problems: string[];
}

function loadCrd(file: string): V1CustomResourceDefinition {
  return loadYaml<V1CustomResourceDefinition>(readFileSync(file, 'utf8'));
}

/** The CRD files of a directory (the chart's crds/). */
export function crdFiles(dir: string = CHART_CRDS): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => `${dir}${f}`);
}

/** The same CRD under another API group (for a check that must not touch the real one). */
function regroup(crd: V1CustomResourceDefinition, group: string): V1CustomResourceDefinition {
  const c = structuredClone(crd);
  c.spec.group = group;
  c.metadata = { name: `${c.spec.names.plural}.${group}` };
  return c;
}

/** Server-side apply of a CRD, then wait until it is Established with its names accepted. */
async function applyCrd(
  kc: KubeConfig,
  crd: V1CustomResourceDefinition,
  timeoutMs: number,
): Promise<V1CustomResourceDefinition> {
  const objects = kc.makeApiClient(KubernetesObjectApi);
  const body = { ...crd, apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' };
  await objects.patch(
    body,
    undefined,
    undefined,
    FIELD_MANAGER,
    true,
    PatchStrategy.ServerSideApply,
  );
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const name = crd.metadata?.name ?? '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = await api.readCustomResourceDefinition({ name });
    const cond = (t: string) =>
      c.status?.conditions?.some((x) => x.type === t && x.status === 'True');
    if (cond('Established') && cond('NamesAccepted')) return c;
    if (Date.now() > deadline)
      throw new Error(`CRD ${name} not Established within ${timeoutMs / 1000}s`);
    await sleep(250);
  }
}

/** Is every key of `want` in `got` with the same value (objects compared recursively)? */
function keeps(want: unknown, got: unknown, path = 'spec'): string[] {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    if (got === null || typeof got !== 'object') return [`${path}: gone`];
    return Object.entries(want).flatMap(([k, v]) =>
      keeps(v, (got as Record<string, unknown>)[k], `${path}.${k}`),
    );
  }
  return JSON.stringify(want) === JSON.stringify(got)
    ? []
    : [`${path}: ${JSON.stringify(want)} became ${JSON.stringify(got)}`];
}

/** An autoscaler spec with every field set (the older schema's fields only). */
const FULL_SPEC = {
  scaleTargetRef: { name: 'reservation' },
  minReplicas: 3,
  maxReplicas: 12,
  targetRpsPerReplica: 250,
  targetBacklogPerReplica: 700,
  tolerancePercent: 15,
  prometheus: { address: 'http://prometheus.example:9090', query: 'sum(rate(x[1m]))' },
  jetstream: { url: 'nats://nats.example:4222', stream: 'S', consumer: 'c' },
  behavior: {
    scaleUp: { stabilizationWindowSeconds: 0, maxStepPods: 4 },
    scaleDown: {
      stabilizationWindowSeconds: 90,
      maxStepPods: 1,
      maxStepPercent: 20,
      periodSeconds: 30,
    },
  },
  fallback: { failureThreshold: 4, replicas: 5 },
  preScale: {
    enabled: true,
    scheduleUrl: 'http://reservation.example',
    leadSeconds: 45,
    holdSeconds: 60,
    expectedRpsPerTicket: 5,
    maxExpectedRps: 9000,
    windows: [{ start: '2030-01-01T10:00:00Z', end: '2030-01-01T11:00:00Z', replicas: 8 }],
  },
  remediation: {
    enabled: true,
    restartThreshold: 2,
    notReadySeconds: 60,
    maxConcurrent: 2,
    maxUnhealthyPercent: 30,
  },
  paused: false,
  dryRun: true,
};

/**
 * The chart's CRD applied over the older one, under a throw-away group in a throw-away namespace
 * (`op-crd-<random>`): objects written under the old schema stay readable, keep their fields and
 * take a status write; a new object is accepted. Both throw-away objects are deleted at the end.
 */
export async function checkCompat(
  kc: KubeConfig,
  opts: { older?: string; newer?: string; progress?: Progress; timeoutMs?: number } = {},
): Promise<CompatResult> {
  const progress = opts.progress ?? (() => undefined);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const olderFile = opts.older ?? OLDER_CRD;
  const newerFile = opts.newer ?? crdFiles()[0] ?? '';
  const id = randomBytes(3).toString('hex');
  const group = `crd-check-${id}.flashsale.dev`;
  const ns = `op-crd-${id}`;
  const older = regroup(loadCrd(olderFile), group);
  const newer = regroup(loadCrd(newerFile), group);
  const plural = older.spec.names.plural;
  const version = older.spec.versions.find((v) => v.storage)?.name ?? 'v1alpha1';
  const kind = older.spec.names.kind;
  const result: CompatResult = {
    ok: false,
    from:
      olderFile
        .split('@')
        .pop()
        ?.replace(/\.yaml$/, '') ?? olderFile,
    objects: 0,
    readable: 0,
    problems: [],
  };
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const exts = kc.makeApiClient(ApiextensionsV1Api);
  const ref = { group, version, namespace: ns, plural };
  try {
    progress(`compat: older CRD (${result.from}) as ${older.metadata?.name}, namespace ${ns}`);
    await applyCrd(kc, older, timeoutMs);
    await core.createNamespace({ body: { metadata: { name: ns } } });
    // Objects as the older schema stored them: one with its defaults persisted, one with every field.
    const written: Record<string, unknown> = {};
    for (const [name, spec] of [
      ['minimal', { scaleTargetRef: { name: 'reservation' } }],
      ['full', FULL_SPEC],
    ] as const) {
      // A CRD just Established may still answer 404 for a moment on its new path: retry briefly.
      const obj = (await retry(() =>
        custom.createNamespacedCustomObject({
          ...ref,
          body: { apiVersion: `${group}/${version}`, kind, metadata: { name }, spec },
        }),
      )) as ReservationAutoscaler;
      written[name] = obj.spec;
    }
    await custom.patchNamespacedCustomObjectStatus(
      { ...ref, name: 'full', body: { status: { desiredReplicas: 4, lastReason: 'ScaledUp' } } },
      MERGE,
    );
    result.objects = Object.keys(written).length;

    progress(`compat: applying the chart's CRD (${newerFile.split('/').pop()}) over it`);
    await applyCrd(kc, newer, timeoutMs);
    const listed = (await retry(() =>
      custom.listNamespacedCustomObject(ref),
    )) as KubernetesListObject<ReservationAutoscaler>;
    for (const [name, spec] of Object.entries(written)) {
      const got = listed.items.find((o) => o.metadata.name === name);
      if (!got) {
        result.problems.push(`${name}: not listed after the upgrade`);
        continue;
      }
      const problems = [...keeps(spec, got.spec)];
      try {
        parseSpec(got.spec);
      } catch (err) {
        problems.push(`parse: ${errMsg(err)}`);
      }
      // The operator's status writes keep working on an object stored under the old schema.
      await custom
        .patchNamespacedCustomObjectStatus(
          { ...ref, name, body: { status: { observedGeneration: 1, lastReason: 'NoChange' } } },
          MERGE,
        )
        .catch((err: unknown) => problems.push(`status write: ${errMsg(err)}`));
      if (problems.length) result.problems.push(...problems.map((p) => `${name}: ${p}`));
      else result.readable++;
    }
    const full = listed.items.find((o) => o.metadata.name === 'full');
    if (full && full.status?.desiredReplicas !== 4)
      result.problems.push('full: the status written under the old schema is gone');
    await custom
      .createNamespacedCustomObject({
        ...ref,
        body: {
          apiVersion: `${group}/${version}`,
          kind,
          metadata: { name: 'new' },
          spec: FULL_SPEC,
        },
      })
      .catch((err: unknown) => result.problems.push(`new object refused: ${errMsg(err)}`));
  } catch (err) {
    result.problems.push(errMsg(err));
  } finally {
    // Deleting the CRD deletes its objects; the namespace goes with it.
    const crdName = older.metadata?.name ?? '';
    await exts.deleteCustomResourceDefinition({ name: crdName }).catch(() => undefined);
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
    // Gone before this returns (its objects first), so nothing of the check outlives it.
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const still = await exts
        .readCustomResourceDefinition({ name: crdName })
        .then(() => true)
        .catch(() => false);
      if (!still) break;
      await sleep(250);
    }
  }
  result.ok =
    result.problems.length === 0 && result.readable === result.objects && result.objects > 0;
  progress(
    `compat: ${result.readable}/${result.objects} objects readable${result.ok ? '' : `: ${result.problems.join('; ')}`}`,
  );
  return result;
}

async function retry<T>(fn: () => Promise<T>, tries = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries || (err as { code?: number }).code !== 404) throw err;
      await sleep(250);
    }
  }
}

function parseError(o: ReservationAutoscaler): string | undefined {
  try {
    parseSpec(o.spec);
    return undefined;
  } catch (err) {
    return errMsg(err);
  }
}
const parses = (o: ReservationAutoscaler) => parseError(o) === undefined;

/** Every ReservationAutoscaler of the cluster (none when the CRD is not there yet). */
async function listAll(kc: KubeConfig, group: string, version: string, plural: string) {
  try {
    const l = (await kc.makeApiClient(CustomObjectsApi).listClusterCustomObject({
      group,
      version,
      plural,
    })) as KubernetesListObject<ReservationAutoscaler>;
    return l.items;
  } catch (err) {
    if ((err as { code?: number }).code === 404) return [];
    throw err;
  }
}

/**
 * The upgrade itself: the chart's CRD applied server-side and Established; every existing
 * ReservationAutoscaler listed before and after, and each must parse with the operator's parser.
 */
export async function upgradeCrds(
  kc: KubeConfig,
  opts: { files?: string[]; progress?: Progress; timeoutMs?: number } = {},
): Promise<UpgradeResult[]> {
  const progress = opts.progress ?? (() => undefined);
  const out: UpgradeResult[] = [];
  for (const file of opts.files ?? crdFiles()) {
    const crd = loadCrd(file);
    const name = crd.metadata?.name ?? '';
    const version = crd.spec.versions.find((v) => v.storage)?.name ?? '';
    const r: UpgradeResult = {
      ok: false,
      crd: name,
      established: false,
      storedVersions: [],
      existingBefore: 0,
      existingReadable: 0,
      unreadableBefore: 0,
      problems: [],
    };
    try {
      const before = await listAll(kc, crd.spec.group, version, crd.spec.names.plural);
      r.existingBefore = before.length;
      progress(`upgrade: ${name}: ${before.length} existing object(s); applying server-side`);
      const applied = await applyCrd(kc, crd, opts.timeoutMs ?? 60_000);
      r.established = true;
      r.storedVersions = applied.status?.storedVersions ?? [];
      const after = await retry(() => listAll(kc, crd.spec.group, version, crd.spec.names.plural));
      // An object the parser refused already before the upgrade is not the upgrade's doing; one it
      // read before and not after is.
      const parsedBefore = new Set(
        before.filter((o) => parses(o)).map((o) => o.metadata.uid ?? ''),
      );
      for (const o of before)
        if (!after.some((a) => a.metadata.uid === o.metadata.uid))
          r.problems.push(`${o.metadata.namespace}/${o.metadata.name}: gone after the upgrade`);
      for (const o of after) {
        const err = parseError(o);
        if (!err) r.existingReadable++;
        else if (parsedBefore.has(o.metadata.uid ?? ''))
          r.problems.push(`${o.metadata.namespace}/${o.metadata.name}: ${err}`);
        else r.unreadableBefore++;
      }
      progress(
        `upgrade: ${name} Established (stored ${r.storedVersions.join(',')}); ${r.existingReadable}/${after.length} readable`,
      );
    } catch (err) {
      r.problems.push(errMsg(err));
    }
    r.ok = r.established && r.problems.length === 0;
    out.push(r);
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = Date.now();
  const progress: Progress = (msg) =>
    process.stderr.write(
      `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] crd-upgrade    ${msg}\n`,
    );
  const kc = new KubeConfig();
  kc.loadFromDefault();
  const compat = await checkCompat(kc, { progress });
  const upgrades = await upgradeCrds(kc, { progress });
  const ok = compat.ok && upgrades.length > 0 && upgrades.every((u) => u.ok);
  const detail = ok
    ? `${upgrades.map((u) => `${u.crd} Established, ${u.existingReadable}/${u.existingBefore} existing readable`).join('; ')}; over ${compat.from}: ${compat.readable}/${compat.objects} readable`
    : [...compat.problems, ...upgrades.flatMap((u) => u.problems)].join('; ');
  process.stdout.write(
    `${JSON.stringify({ crdUpgrade: ok ? 'passed' : 'failed', seconds: Math.round((Date.now() - t0) / 100) / 10, detail, compat, upgrades })}\n`,
  );
  process.exitCode = ok ? 0 : 1;
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stdout.write(`${JSON.stringify({ crdUpgrade: 'failed', detail: errMsg(err) })}\n`);
    process.exit(1);
  });
}
