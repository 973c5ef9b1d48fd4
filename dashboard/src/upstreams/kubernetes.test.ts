import { describe, expect, it } from 'vitest';
import { eventToFeed, toAutoscalerInfo } from './kubernetes.js';

describe('toAutoscalerInfo', () => {
  it('when the status is written, then the page sees its figures and last reason', () => {
    const a = toAutoscalerInfo({
      metadata: { name: 'r' },
      spec: { scaleTargetRef: { name: 'reservation' }, minReplicas: 2, maxReplicas: 9 },
      status: {
        desiredReplicas: 5,
        currentReplicas: 3,
        observedRps: 10.5,
        observedBacklog: 7,
        lastReason: 'ScaledUp',
      },
    });
    expect(a).toMatchObject({
      target: 'reservation',
      desiredReplicas: 5,
      currentReplicas: 3,
      observedRps: 10.5,
      lastReason: 'ScaledUp',
    });
  });

  it('when fields are missing or of the wrong type, then they are unknown (null), not a crash', () => {
    const a = toAutoscalerInfo({
      metadata: { name: 'r' },
      spec: { minReplicas: 'two' },
      status: { conditions: 'x' },
    });
    expect(a).toMatchObject({
      name: 'r',
      target: '',
      minReplicas: null,
      desiredReplicas: null,
      conditions: [],
    });
    expect(toAutoscalerInfo({})).toBeNull();
  });

  it('when only recommendedReplicas is set (dry-run), then it is the desired count', () => {
    expect(
      toAutoscalerInfo({ metadata: { name: 'r' }, status: { recommendedReplicas: 4 } })
        ?.desiredReplicas,
    ).toBe(4);
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
