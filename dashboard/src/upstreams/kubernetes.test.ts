import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
// The operator's own types: the fixtures below are the objects its controller writes, so a field
// renamed there breaks this file's typecheck rather than the page.
import type { AutoscalerStatus } from '../../../operator/src/spec.js';
import { eventToFeed, toAutoscalerInfo } from './kubernetes.js';

const crdFile = fileURLToPath(
  new URL(
    '../../../charts/flashsale/crds/reservationautoscalers.flashsale.dev.yaml',
    import.meta.url,
  ),
);
interface SchemaNode {
  properties?: Record<string, SchemaNode>;
}
const crdSchema = (): SchemaNode => {
  const [crd] = loadAllYaml(readFileSync(crdFile, 'utf8')) as Array<{
    spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: SchemaNode } }> };
  }>;
  const v = crd?.spec.versions.find((x) => x.name === 'v1alpha1');
  if (!v) throw new Error('no v1alpha1 in the CRD');
  return v.schema.openAPIV3Schema;
};

// Every status field the operator writes (controller.ts, a scale-up after a scale-down), with the
// types of its AutoscalerStatus: Required<> makes a new field in the operator fail the typecheck here.
const written: Required<AutoscalerStatus> = {
  observedGeneration: 3,
  currentReplicas: 2,
  desiredReplicas: 6,
  recommendedReplicas: 6,
  observedRps: 2871.25,
  observedBacklog: 12000,
  lastReason: 'ScaledUp',
  lastMessage: 'ScaledUp: 2 -> 6; rps 2871.25 (500/replica), backlog 12000 (5000/replica)',
  lastDecisionTime: '2026-11-22T08:00:05.000Z',
  lastScaleTime: '2026-11-22T08:00:05.000Z',
  lastScaleDownTime: '2026-11-22T07:40:00.000Z',
  preScale: '4 replicas: sale Concert opens in 40 s',
  conditions: [
    {
      type: 'Ready',
      status: 'True',
      reason: 'Reconciled',
      message: 'decided 6 replicas (ScaledUp)',
      lastTransitionTime: '2026-11-22T07:00:00.000Z',
      observedGeneration: 3,
    },
    {
      type: 'MetricsAvailable',
      status: 'True',
      reason: 'SignalsRead',
      message: 'rps and backlog read',
      lastTransitionTime: '2026-11-22T07:00:00.000Z',
      observedGeneration: 3,
    },
    {
      type: 'ScalingLimited',
      status: 'False',
      reason: 'WithinBounds',
      message: 'the decision is within min, max and step limits',
      lastTransitionTime: '2026-11-22T07:00:00.000Z',
      observedGeneration: 3,
    },
  ],
};
const resource = (spec: Record<string, unknown>, status: AutoscalerStatus) => ({
  apiVersion: 'flashsale.dev/v1alpha1',
  kind: 'ReservationAutoscaler',
  metadata: { name: 'flashsale-reservation', namespace: 'flashsale', generation: 3 },
  spec: {
    scaleTargetRef: { name: 'flashsale-reservation' },
    minReplicas: 2,
    maxReplicas: 12,
    ...spec,
  },
  status,
});

describe('toAutoscalerInfo', () => {
  it('when the CRD is read, then its status fields are exactly those the operator writes', () => {
    const status = crdSchema().properties?.status?.properties ?? {};
    expect(Object.keys(status).sort()).toEqual(Object.keys(written).sort());
  });

  it('when the CRD is read, then every spec field the page shows is in its schema', () => {
    const spec = crdSchema().properties?.spec?.properties ?? {};
    for (const f of ['minReplicas', 'maxReplicas', 'paused', 'dryRun'])
      expect(spec).toHaveProperty(f);
    expect(spec.scaleTargetRef?.properties).toHaveProperty('name');
  });

  it('when the operator wrote a scale-up, then the page sees its figures, reason and times', () => {
    expect(toAutoscalerInfo(resource({}, written))).toEqual({
      name: 'flashsale-reservation',
      target: 'flashsale-reservation',
      minReplicas: 2,
      maxReplicas: 12,
      mode: 'active',
      desiredReplicas: 6,
      recommendedReplicas: 6,
      currentReplicas: 2,
      observedRps: 2871.25,
      observedBacklog: 12000,
      lastReason: 'ScaledUp',
      lastMessage: written.lastMessage,
      lastDecisionAt: '2026-11-22T08:00:05.000Z',
      lastScaleAt: '2026-11-22T08:00:05.000Z',
      preScale: '4 replicas: sale Concert opens in 40 s',
      conditions: written.conditions.map(({ type, status, reason, message }) => ({
        type,
        status,
        reason,
        message,
      })),
    });
  });

  it('when in dry-run with the signals unavailable, then desired is the current count, the decision is recommendedReplicas, the signals unknown', () => {
    const status: AutoscalerStatus = {
      currentReplicas: 2,
      desiredReplicas: 2,
      recommendedReplicas: 5,
      observedRps: null,
      observedBacklog: null,
      lastReason: 'MetricsUnavailableHold',
      preScale: null,
    };
    expect(toAutoscalerInfo(resource({ dryRun: true }, status))).toMatchObject({
      mode: 'dryRun',
      desiredReplicas: 2,
      recommendedReplicas: 5,
      observedRps: null,
      observedBacklog: null,
      preScale: null,
      lastScaleAt: null,
    });
    expect(toAutoscalerInfo(resource({ paused: true }, status))?.mode).toBe('paused');
  });

  it('when the operator has not written a status yet, then every figure is unknown', () => {
    expect(toAutoscalerInfo(resource({}, {}))).toMatchObject({
      target: 'flashsale-reservation',
      desiredReplicas: null,
      recommendedReplicas: null,
      lastReason: null,
      conditions: [],
    });
  });

  it('when fields are of the wrong type, then they are unknown (null), not a crash', () => {
    const a = toAutoscalerInfo({
      metadata: { name: 'r' },
      spec: { minReplicas: 'two', paused: 'yes' },
      status: { conditions: 'x', desiredReplicas: '6', observedRps: 12 },
    });
    expect(a).toMatchObject({
      name: 'r',
      target: '',
      minReplicas: null,
      mode: 'active',
      desiredReplicas: null,
      observedRps: 12,
      conditions: [],
    });
    expect(toAutoscalerInfo({})).toBeNull();
  });
});

describe('eventToFeed', () => {
  it('when the Event is about an autoscaler, then it is a decision; a Warning is a warning', () => {
    const f = eventToFeed({
      involvedObject: { kind: 'ReservationAutoscaler', name: 'r' },
      reason: 'ScaledUp',
      message: '2 -> 6',
      type: 'Warning',
      lastTimestamp: new Date('2026-01-01T00:00:00Z'),
      metadata: {},
    });
    expect(f).toEqual({
      at: '2026-01-01T00:00:00.000Z',
      kind: 'decision',
      severity: 'warning',
      title: 'ScaledUp',
      detail: '2 -> 6',
      object: 'ReservationAutoscaler/r',
      count: 1,
    });
  });
});
