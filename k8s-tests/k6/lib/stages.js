// k6 scenarios for each load shape in ../profiles.json. Every shape is bounded: a fixed number of
// iterations or a fixed duration, plus gracefulStop.

/** The k6 `scenarios` option for a scenario name and its shape. */
export function scenarios(name, s) {
  switch (name) {
    case 'burst':
      // Every user once, as fast as `vus` clients can send: the opening second of a sale.
      return {
        burst: {
          executor: 'shared-iterations',
          vus: s.vus,
          iterations: s.users,
          maxDuration: `${s.maxDurationS}s`,
        },
      };
    case 'ramp':
      // Arrivals grow linearly to peakRate and hold; when the service saturates, k6 runs out of
      // VUs and counts dropped_iterations instead of queueing without bound.
      return {
        ramp: {
          executor: 'ramping-arrival-rate',
          startRate: s.startRate,
          timeUnit: '1s',
          preAllocatedVUs: Math.min(s.maxVUs, Math.max(10, s.startRate)),
          maxVUs: s.maxVUs,
          stages: [
            { target: s.peakRate, duration: `${s.rampS}s` },
            { target: s.peakRate, duration: `${s.holdS}s` },
          ],
          gracefulStop: '10s',
        },
      };
    case 'soak':
    case 'chaos':
      return {
        [name]: {
          executor: 'constant-arrival-rate',
          rate: s.rate,
          timeUnit: '1s',
          duration: `${s.durationS}s`,
          preAllocatedVUs: Math.min(s.maxVUs, s.rate),
          maxVUs: s.maxVUs,
          gracefulStop: '15s',
        },
      };
    default:
      throw new Error(`no stages for scenario ${name}`);
  }
}

/** k6 thresholds from the shared numbers (the in-cluster runner judges the same on merged samples). */
export function thresholds(t) {
  return {
    http_req_duration: [`p(95)<${t.p95Ms}`, `p(99)<${t.p99Ms}`],
    http_req_failed: [`rate<${t.errorRate}`],
    invariant_violations: ['count==0'],
  };
}
