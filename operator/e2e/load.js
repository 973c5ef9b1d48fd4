// k6 load for make operator-e2e: one event, reservation attempts at a constant rate for a bounded
// time (the operator's RPS signal counts these POSTs). Rendered into a ConfigMap by run.ts.
/* global __ENV, __VU, __ITER */
import http from 'k6/http';
import { check } from 'k6';

const BASE = __ENV.BASE_URL;
const RATE = Number(__ENV.RATE || 200);
const SECONDS = Number(__ENV.SECONDS || 60);

export const options = {
  scenarios: {
    rush: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: `${SECONDS}s`,
      preAllocatedVUs: 50,
      maxVUs: 400,
    },
  },
};

export function setup() {
  const res = http.post(
    `${BASE}/v1/events`,
    JSON.stringify({ name: 'operator-e2e load', capacity: 1000000 }),
    {
      headers: { 'content-type': 'application/json', authorization: `Bearer ${__ENV.ADMIN_TOKEN}` },
    },
  );
  // No event, no load worth measuring: stop here (the Job fails and run.ts says so).
  if (res.status !== 201) throw new Error(`creating the event: ${res.status} ${res.body}`);
  return { id: res.json('id') };
}

export default function (data) {
  const res = http.post(
    `${BASE}/v1/events/${data.id}/reservations`,
    JSON.stringify({ userId: `u-${__VU}-${__ITER}` }),
    { headers: { 'content-type': 'application/json' } },
  );
  check(res, { accepted: (r) => r.status === 202 || r.status === 409 || r.status === 429 });
}
