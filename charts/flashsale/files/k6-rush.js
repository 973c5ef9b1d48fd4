// The rush the dashboard's launcher starts: every iteration is a new buyer reserving one ticket of
// EVENT_ID at BASE_URL. The launcher bounds the run with k6's --vus and --duration flags; the
// chart ships this file in the <release>-k6-scripts ConfigMap under the key rush.js. A buyer
// presses at most ten times a second (the pause below), so the load is set by the number of
// virtual users, not by how fast a shared node answers: 200 users are at most 2,000 requests/s.
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';

const base = __ENV.BASE_URL;
const eventId = __ENV.EVENT_ID;
// A run id keeps buyers of two launches on the same sale apart (at most one ticket per user).
const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

export const options = {
  thresholds: { checks: ['rate>0.95'] },
};

export default function () {
  const userId = `rush-${run}-${exec.vu.idInTest}-${exec.vu.iterationInScenario}`;
  const res = http.post(`${base}/v1/events/${eventId}/reservations`, JSON.stringify({ userId }), {
    headers: { 'content-type': 'application/json' },
    tags: { name: 'reserve' },
  });
  // 202 accepted, 201 confirmed, 409 sold out / already reserved and 429 rate limited are all
  // truthful answers; a 5xx or no answer is not.
  check(res, { 'answered truthfully': (r) => [201, 202, 409, 429].includes(r.status) });
  sleep(0.1);
}
