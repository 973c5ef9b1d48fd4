// Which stuck pods to delete so their ReplicaSet replaces them. Pure: the caller maps Pods to
// PodView and deletes what this returns. An outage (too many unhealthy at once) is reported and
// left alone: deleting pods that fail for a shared reason only adds churn.

/** What the rules need to know about one target pod. */
export interface PodView {
  name: string;
  /** Has a controller ownerReference (a ReplicaSet) that will replace it. */
  owned: boolean;
  /** Being deleted already (deletionTimestamp set). */
  terminating: boolean;
  phase: string;
  ready: boolean;
  /** Epoch ms since the Ready condition last changed (its lastTransitionTime). */
  readySince?: number | undefined;
  /** Highest restartCount over the pod's containers. */
  restarts: number;
  /** True when a container waits in CrashLoopBackOff. */
  crashLooping: boolean;
}

export interface RemediationSpec {
  enabled: boolean;
  /** A crash-looping pod is deleted once it restarted at least this often. */
  restartThreshold: number;
  /** A Running pod that has not been Ready for this long is deleted. */
  notReadySeconds: number;
  /** At most this many pods deleted and still terminating at a time. */
  maxConcurrent: number;
  /** Above this share of unhealthy pods nothing is deleted: that is an outage. */
  maxUnhealthyPercent: number;
}

export type Unhealthy = 'CrashLoopBackOff' | 'NotReady';

export interface RemediationPlan {
  /** Pods to delete now, with why. */
  restart: Array<{ name: string; why: Unhealthy; detail: string }>;
  /** Unhealthy pods left alone this time, with why. */
  skipped: Array<{ name: string; why: string }>;
  /** More than the allowed share is unhealthy: report, don't heal. */
  outage: boolean;
  unhealthy: number;
}

function diagnose(p: PodView, spec: RemediationSpec, now: number): Unhealthy | undefined {
  // A crash-looping pod is judged by its restarts alone: it is "not Ready" from the first crash, and
  // the restart threshold is the patience the user chose for it.
  if (p.crashLooping) return p.restarts >= spec.restartThreshold ? 'CrashLoopBackOff' : undefined;
  if (
    p.phase === 'Running' &&
    !p.ready &&
    p.readySince !== undefined &&
    now - p.readySince >= spec.notReadySeconds * 1000
  )
    return 'NotReady';
  return undefined;
}

/** The pods to restart now under the remediation rules. */
export function planRemediation(
  pods: readonly PodView[],
  spec: RemediationSpec,
  now: number,
): RemediationPlan {
  const plan: RemediationPlan = { restart: [], skipped: [], outage: false, unhealthy: 0 };
  if (!spec.enabled) return plan;
  const live = pods.filter((p) => !p.terminating);
  const found = live
    .map((p) => ({ p, why: diagnose(p, spec, now) }))
    .filter((x): x is { p: PodView; why: Unhealthy } => x.why !== undefined);
  plan.unhealthy = found.length;
  if (found.length === 0) return plan;
  // The share counts every unhealthy pod, owned or not, against all pods not already going away.
  if (live.length > 0 && (found.length / live.length) * 100 > spec.maxUnhealthyPercent) {
    plan.outage = true;
    for (const { p } of found)
      plan.skipped.push({
        name: p.name,
        why: `outage: ${found.length}/${live.length} unhealthy > ${spec.maxUnhealthyPercent}%`,
      });
    return plan;
  }
  let budget = spec.maxConcurrent - pods.filter((p) => p.terminating).length;
  // The longest-suffering first, so one flapping pod can't starve another.
  found.sort((a, b) => b.p.restarts - a.p.restarts || a.p.name.localeCompare(b.p.name));
  for (const { p, why } of found) {
    if (!p.owned) {
      plan.skipped.push({ name: p.name, why: 'no owner would replace it' });
    } else if (budget <= 0) {
      plan.skipped.push({ name: p.name, why: `at most ${spec.maxConcurrent} at a time` });
    } else {
      budget--;
      const detail =
        why === 'CrashLoopBackOff'
          ? `CrashLoopBackOff after ${p.restarts} restarts`
          : `Running but not Ready for ${Math.round((now - (p.readySince ?? now)) / 1000)}s`;
      plan.restart.push({ name: p.name, why, detail });
    }
  }
  return plan;
}
