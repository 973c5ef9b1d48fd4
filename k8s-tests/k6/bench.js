// The one load generator of `make bench`: the same script for every system in a run.
// Env: TARGETS (comma-separated base URLs), EVENT, PREFIX (user id prefix), MODE (burst|rate),
// USERS (burst), VUS (burst), RATE and DURATION (rate), SUMMARY (path of the JSON summary).
import http from 'k6/http';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';

const targets = __ENV.TARGETS.split(',');
const accepted = new Counter('accepted');
const refused = new Counter('refused');
const errors = new Counter('errors');

const burst = {
  executor: 'shared-iterations',
  vus: Number(__ENV.VUS || 200),
  iterations: Number(__ENV.USERS || 10000),
  maxDuration: '120s',
};
const rate = {
  executor: 'constant-arrival-rate',
  rate: Number(__ENV.RATE || 500),
  timeUnit: '1s',
  duration: __ENV.DURATION || '10s',
  preAllocatedVUs: Number(__ENV.VUS || 200),
  maxVUs: Number(__ENV.VUS || 200) * 2,
};

export const options = {
  scenarios: { load: __ENV.MODE === 'burst' ? burst : rate },
  summaryTrendStats: ['avg', 'p(50)', 'p(95)', 'p(99)', 'max'],
  discardResponseBodies: false,
  insecureSkipTLSVerify: true,
};

const params = { headers: { 'Content-Type': 'application/json' }, timeout: '30s' };

export default function () {
  const i = exec.scenario.iterationInTest;
  const base = targets[i % targets.length];
  const res = http.post(
    `${base}/v1/events/${__ENV.EVENT}/reservations`,
    JSON.stringify({ userId: `${__ENV.PREFIX}-${i}` }),
    params,
  );
  if (res.status === 201 || res.status === 202) accepted.add(1);
  else if (res.status === 409) refused.add(1);
  else errors.add(1);
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY]: JSON.stringify(data) };
}
