// Two operators on one control plane, as two releases in two namespaces (one namespaced, one
// cluster-wide): each ReservationAutoscaler is acted on by exactly one of them, and the
// flashsale.dev/operator label hands one over.
import {
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Operator } from '../src/main.js';
import { OPERATOR_LABEL } from '../src/ownership.js';
import { GROUP, PLURAL, VERSION } from '../src/spec.js';
import {
  adminKc,
  applyCrd,
  capturingLogger,
  createAutoscaler,
  createDeployment,
  namespace,
  replicasOf,
  specWithRps,
  testConfig,
  waitUntil,
} from './helpers.js';

let kc: KubeConfig;
let nsA: string;
let nsB: string;
const drops: Array<() => Promise<void>> = [];
let opA: Operator;
let opB: Operator;

/** Decisions one operator took for `ns/name` so far (its decisions_total counter, every reason). */
async function decisions(op: Operator, ns: string, name: string): Promise<number> {
  const m = await op.metrics.decisions.get();
  return m.values
    .filter((v) => v.labels.namespace === ns && v.labels.name === name)
    .reduce((a, v) => a + v.value, 0);
}

beforeAll(async () => {
  kc = adminKc();
  await applyCrd(kc);
  let drop: () => Promise<void>;
  [nsA, drop] = await namespace(kc, 'op-own-a');
  drops.push(drop);
  [nsB, drop] = await namespace(kc, 'op-own-b');
  drops.push(drop);
  // A: the chart's default (its own namespace). B: cluster-wide (operator.watchNamespace "*").
  opA = await start({ config: testConfig(nsA), kc, log: capturingLogger().log });
  opB = await start({
    config: testConfig(nsB, { WATCH_NAMESPACE: '' }),
    kc,
    log: capturingLogger().log,
  });
  await waitUntil('both lead their own Lease', 20_000, () =>
    Promise.resolve(opA.isLeader() && opB.isLeader()),
  );
});

afterAll(async () => {
  await opA?.stop();
  await opB?.stop();
  for (const d of drops) await d();
});

describe('two operators in two namespaces', () => {
  it('when an unlabelled autoscaler is in A, then only A acts; labelled for B, then only B', async () => {
    await createDeployment(kc, nsA, 'reservation', 1);
    await createAutoscaler(kc, nsA, 'r', specWithRps(1200));
    await waitUntil(
      'A scaled it to 3',
      30_000,
      async () => (await replicasOf(kc, nsA, 'reservation')) === 3,
    );
    // B sees it (it watches every namespace) but never decides for it.
    await new Promise((r) => setTimeout(r, 1500));
    expect(await decisions(opB, nsA, 'r')).toBe(0);
    expect(await decisions(opA, nsA, 'r')).toBeGreaterThan(0);

    // Handed to B by the label, with a new target so that the acting one shows.
    await kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: nsA,
        plural: PLURAL,
        name: 'r',
        body: {
          metadata: { labels: { [OPERATOR_LABEL]: `${nsB}.flashsale-operator` } },
          spec: { targetRpsPerReplica: 300 },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await waitUntil(
      'B scaled it to 4',
      30_000,
      async () => (await replicasOf(kc, nsA, 'reservation')) === 4,
    );
    const a = await decisions(opA, nsA, 'r');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await decisions(opA, nsA, 'r')).toBe(a);
    expect(await decisions(opB, nsA, 'r')).toBeGreaterThan(0);
  });
});
