// The CRD upgrade step (operator/tools/crd-upgrade.ts, `make crd-upgrade`) on the test bed's control
// plane: the chart's CRD over the first released one keeps stored objects readable, and the real
// upgrade leaves every existing ReservationAutoscaler readable.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ApiextensionsV1Api,
  dumpYaml,
  loadYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCompat, crdFiles, upgradeCrds } from '../tools/crd-upgrade.js';
import {
  adminKc,
  applyCrd,
  createAutoscaler,
  namespace,
  readAutoscaler,
  specWithRps,
} from './helpers.js';

let kc: KubeConfig;

beforeAll(() => {
  kc = adminKc();
});

describe('crd upgrade', () => {
  it('when the chart CRD is applied over the older stored one, then the old objects stay readable and the throw-away CRD is gone', async () => {
    const r = await checkCompat(kc);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, objects: 2, readable: 2 });
    const crds = await kc.makeApiClient(ApiextensionsV1Api).listCustomResourceDefinition();
    expect(crds.items.filter((c) => c.spec.group.startsWith('crd-check-'))).toEqual([]);
  });

  it('when the new CRD breaks the stored objects, then the check fails and says why', async () => {
    // A "new" CRD without the status subresource: the operator's status writes would 404.
    const broken = loadYaml<V1CustomResourceDefinition>(readFileSync(crdFiles()[0] ?? '', 'utf8'));
    for (const v of broken.spec.versions) delete v.subresources;
    const file = join(mkdtempSync(join(tmpdir(), 'crd-')), 'broken.yaml');
    writeFileSync(file, dumpYaml(broken));
    const r = await checkCompat(kc, { newer: file });
    expect(r.ok).toBe(false);
    expect(r.problems.join('; ')).toMatch(/status write/);
  });

  it('when existing autoscalers are stored, then the upgrade keeps each one readable', async () => {
    await applyCrd(kc);
    const [ns, drop] = await namespace(kc, 'op-crdup');
    try {
      await createAutoscaler(kc, ns, 'kept', specWithRps(100));
      const [r] = await upgradeCrds(kc);
      expect(r?.problems).toEqual([]);
      expect(r).toMatchObject({ ok: true, established: true, storedVersions: ['v1alpha1'] });
      expect(r?.existingReadable).toBeGreaterThanOrEqual(1);
      expect((await readAutoscaler(kc, ns, 'kept')).spec).toMatchObject({
        targetRpsPerReplica: 500,
      });
    } finally {
      await drop();
    }
  });
});
