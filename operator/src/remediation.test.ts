import { describe, expect, it } from 'vitest';
import { planRemediation, type PodView, type RemediationSpec } from './remediation.js';

const T = 1_800_000_000_000;
const spec: RemediationSpec = {
  enabled: true,
  restartThreshold: 3,
  notReadySeconds: 120,
  maxConcurrent: 1,
  maxUnhealthyPercent: 40,
};
const healthy = (name: string): PodView => ({
  name,
  owned: true,
  terminating: false,
  phase: 'Running',
  ready: true,
  readySince: T - 600_000,
  restarts: 0,
  crashLooping: false,
});
const looping = (name: string, restarts = 5): PodView => ({
  ...healthy(name),
  ready: false,
  crashLooping: true,
  restarts,
});
const notReady = (name: string, forMs: number): PodView => ({
  ...healthy(name),
  ready: false,
  readySince: T - forMs,
});
const fleet = (...extra: PodView[]) => [...['a', 'b', 'c', 'd', 'e'].map(healthy), ...extra];

describe('planRemediation', () => {
  it('when a pod crash-loops past the threshold, then it is restarted', () => {
    const plan = planRemediation(fleet(looping('x')), spec, T);
    expect(plan.restart).toEqual([
      { name: 'x', why: 'CrashLoopBackOff', detail: 'CrashLoopBackOff after 5 restarts' },
    ]);
  });

  it('when a pod crash-loops below the threshold, then it is left alone', () => {
    expect(planRemediation(fleet(looping('x', 2)), spec, T).restart).toEqual([]);
  });

  it('when a Running pod is not Ready longer than the limit, then it is restarted', () => {
    expect(planRemediation(fleet(notReady('x', 120_000)), spec, T).restart[0]?.why).toBe(
      'NotReady',
    );
  });

  it('when a Running pod is not Ready for less than the limit, then it is left alone', () => {
    expect(planRemediation(fleet(notReady('x', 119_000)), spec, T).unhealthy).toBe(0);
  });

  it('when a pod is Pending (starting), then it is not "not Ready"', () => {
    const pending = { ...notReady('x', 600_000), phase: 'Pending' };
    expect(planRemediation(fleet(pending), spec, T).unhealthy).toBe(0);
  });

  it('when two pods are stuck and one may go at a time, then the worse goes first', () => {
    const plan = planRemediation(fleet(looping('x', 4), looping('y', 9)), spec, T);
    expect(plan.restart.map((r) => r.name)).toEqual(['y']);
    expect(plan.skipped).toEqual([{ name: 'x', why: 'at most 1 at a time' }]);
  });

  it('when a deleted pod is still terminating, then it uses up the budget', () => {
    const going = { ...looping('old'), terminating: true };
    const plan = planRemediation(fleet(going, looping('x')), spec, T);
    expect(plan.restart).toEqual([]);
    expect(plan.skipped[0]?.why).toBe('at most 1 at a time');
  });

  it('when more than the allowed share is unhealthy, then it is an outage and nothing is deleted', () => {
    const pods = [healthy('a'), healthy('b'), looping('x'), looping('y')];
    const plan = planRemediation(pods, spec, T);
    expect(plan.outage).toBe(true);
    expect(plan.restart).toEqual([]);
    expect(plan.skipped).toHaveLength(2);
  });

  it('when exactly the allowed share is unhealthy, then it is healed', () => {
    const pods = [healthy('a'), healthy('b'), healthy('c'), looping('x'), looping('y')];
    const plan = planRemediation(pods, { ...spec, maxConcurrent: 2 }, T);
    expect(plan.outage).toBe(false);
    expect(plan.restart).toHaveLength(2);
  });

  it('when a stuck pod has no owner, then it is never deleted', () => {
    const plan = planRemediation(fleet({ ...looping('bare'), owned: false }), spec, T);
    expect(plan.restart).toEqual([]);
    expect(plan.skipped).toEqual([{ name: 'bare', why: 'no owner would replace it' }]);
  });

  it('when remediation is disabled, then nothing is planned', () => {
    expect(planRemediation(fleet(looping('x')), { ...spec, enabled: false }, T).restart).toEqual(
      [],
    );
  });
});
