// The client's informer stops for good on a list/watch error other than 410; ours restarts. Deleting
// the CRD under a running operator makes its re-list fail with 404; once the CRD is back, a new
// ReservationAutoscaler must still be reconciled.
import { ApiextensionsV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Operator } from '../src/main.js';
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
let ns: string;
let dropNs: () => Promise<void>;
let op: Operator;

beforeAll(async () => {
  kc = adminKc();
  await applyCrd(kc);
  [ns, dropNs] = await namespace(kc, 'op-informer');
  op = await start({ config: testConfig(ns), kc, log: capturingLogger().log });
  await waitUntil('leader', 20_000, () => Promise.resolve(op.isLeader()));
});

afterAll(async () => {
  await op?.stop();
  await applyCrd(kc); // leave the CRD in place for whoever runs next
  await dropNs?.();
});

describe('informer restarts', () => {
  it('when the CRD disappears and comes back, then the operator keeps reconciling new objects', async () => {
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const name = 'reservationautoscalers.flashsale.dev';
    await ext.deleteCustomResourceDefinition({ name });
    await waitUntil('CRD gone', 60_000, async () => {
      try {
        await ext.readCustomResourceDefinition({ name });
        return false;
      } catch {
        return true;
      }
    });
    await waitUntil('the informer failed and restarted', 60_000, async () => {
      const m = await op.metrics.registry.getSingleMetricAsString(
        'flashsale_operator_informer_restarts_total',
      );
      return /informer_restarts_total\{resource="reservationautoscalers"\} [1-9]/.test(m);
    });
    await applyCrd(kc);
    await createDeployment(kc, ns, 'reservation', 1);
    await createAutoscaler(
      kc,
      ns,
      'after',
      specWithRps(1900, { jetstream: { url: 'nats://127.0.0.1:1' } }),
    );
    await waitUntil(
      'reconciled after the restart',
      90_000,
      async () => (await replicasOf(kc, ns, 'reservation')) === 4,
    );
    expect(await replicasOf(kc, ns, 'reservation')).toBe(4);
  });
});
