// The run's settings, shared by local and in-cluster runs: everything comes from k6's -e/env
// variables (the in-cluster runner sets them on the Job), the shapes from ../profiles.json, which
// the TypeScript runner reads too, so both judge the same thresholds.

/* global __ENV, open */

const profiles = JSON.parse(open('../profiles.json'));

function env(name, fallback) {
  const v = __ENV[name];
  return v === undefined || v === '' ? fallback : v;
}

const scenario = env('SCENARIO', 'burst');
if (!profiles[scenario]) {
  throw new Error(`SCENARIO=${scenario} is unknown; known: ${Object.keys(profiles).join(', ')}`);
}
const profileName = env('PROFILE', 'short');
const shape = profiles[scenario][profileName];
if (!shape) throw new Error(`PROFILE=${profileName} is unknown for ${scenario}: full or short`);

/** Everything a VU needs to know about the run. */
export const config = {
  scenario,
  profile: profileName,
  shape,
  thresholds: profiles[scenario].thresholds,
  baseUrl: env('BASE_URL', 'http://127.0.0.1:8080').replace(/\/$/, ''),
  adminToken: env('ADMIN_TOKEN', ''),
  // In the cluster the runner creates the sales once for all pods, after every pod is up and
  // paused and just before it resumes them (their opening times follow the load's start), so the
  // pods find them by name in setup(); a local run creates them itself.
  eventsFromService: env('EVENTS_FROM_SERVICE', '0') === '1',
  waves: shape.waves || 1,
  runId: env('RUN_ID', `${Date.now().toString(36)}`),
  // One line per answer (the raw samples the in-cluster runner merges, and the chaos history).
  logAnswers: env('LOG_ANSWERS', '1') === '1',
  // How long teardown waits for the queue to drain before it checks the audit.
  drainTimeoutS: Number(env('DRAIN_TIMEOUT_S', '90')),
};

/**
 * This pod's share of the load when the in-cluster runner splits it over an Indexed Job of
 * SEGMENTS pods: pod i runs the segment i/N:(i+1)/N of the sequence 0,1/N,...,1 (k6 execution
 * segments, what the k6 operator does). The Job gives every pod the same arguments, so the pod's
 * index (JOB_COMPLETION_INDEX, set by Kubernetes) picks the segment here, in the script options.
 */
export function segmentOptions() {
  const n = Number(env('SEGMENTS', '1'));
  const i = Number(env('JOB_COMPLETION_INDEX', '-1'));
  if (!(n > 1) || !(i >= 0 && i < n)) return {};
  const seq = Array.from({ length: n + 1 }, (_, k) =>
    k === 0 ? '0' : k === n ? '1' : `${k}/${n}`,
  );
  return {
    executionSegment: `${seq[i]}:${seq[i + 1]}`,
    executionSegmentSequence: seq.join(','),
  };
}
