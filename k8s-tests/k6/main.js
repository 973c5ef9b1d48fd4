// flashsale load: one script for local runs (k6 run k8s-tests/k6/main.js) and for the pods of the
// in-cluster Job (make k6), selected by SCENARIO (burst, ramp, soak, chaos) and PROFILE (short,
// full); see ../README.md. Each answer is logged as one JSON line so that the in-cluster runner can
// merge the raw samples of every pod and record what each user was told.

/* global __ENV */
import http from 'k6/http';
import { check, sleep } from 'k6';
import exec from 'k6/execution';
import { Counter } from 'k6/metrics';
import { config, segmentOptions } from './lib/config.js';
import { scenarios, thresholds } from './lib/stages.js';

const violations = new Counter('invariant_violations');
const shape = config.shape;

// 409 answers are decisions (sold out, already reserved, not open), not failures.
http.setResponseCallback(http.expectedStatuses(200, 201, 202, 409));

export const options = {
  scenarios: scenarios(config.scenario, shape),
  thresholds: thresholds(config.thresholds),
  setupTimeout: '60s',
  teardownTimeout: `${config.drainTimeoutS + 30}s`,
  discardResponseBodies: false,
  summaryTrendStats: ['avg', 'min', 'med', 'p(95)', 'p(99)', 'max'],
  tags: { scenario_name: config.scenario },
  ...segmentOptions(),
};

const adminHeaders = () => ({
  'content-type': 'application/json',
  authorization: `Bearer ${config.adminToken}`,
});

function body(res) {
  try {
    return res.json() || {};
  } catch {
    return {};
  }
}

/** The run's sales, in opening order: `k6 <scenario> <runId> <wave>`. */
const saleName = (k) => `k6 ${config.scenario} ${config.runId} ${k + 1}`;

/** Finds the sales the in-cluster runner created for this run (by name). */
function findSales() {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = http.get(`${config.baseUrl}/v1/events?limit=100`, {
      tags: { name: 'list-events' },
    });
    const listed = res.status === 200 ? body(res).events || [] : [];
    const events = [];
    for (let k = 0; k < config.waves; k++) {
      const ev = listed.find((x) => x.name === saleName(k));
      if (ev) events.push({ id: ev.id, opensAt: Date.parse(ev.saleStartsAt) });
    }
    if (events.length === config.waves) return events;
    if (Date.now() > deadline)
      throw new Error(`found ${events.length} of ${config.waves} sales of run ${config.runId}`);
    sleep(1);
  }
}

/**
 * The sales of the run: found by name in the cluster; created here in a local run (in waves over
 * the run for the chaos scenario, one sale open at once otherwise).
 */
export function setup() {
  if (config.eventsFromService) return { events: findSales() };
  if (!config.adminToken) throw new Error('ADMIN_TOKEN is needed to create the sale');
  const waves = config.waves;
  const duration = (shape.durationS || 0) * 1000;
  const start = Date.now() + 1000;
  const events = [];
  for (let k = 0; k < waves; k++) {
    const capacity =
      k === waves - 1
        ? shape.tickets - Math.floor(shape.tickets / waves) * k
        : Math.floor(shape.tickets / waves);
    const opensAt = start + (k * duration) / waves;
    const res = http.post(
      `${config.baseUrl}/v1/events`,
      JSON.stringify({
        name: saleName(k),
        capacity,
        saleStartsAt: new Date(opensAt).toISOString(),
      }),
      { headers: adminHeaders(), tags: { name: 'create-event' } },
    );
    if (res.status !== 201) throw new Error(`creating the sale answered ${res.status} ${res.body}`);
    events.push({ id: body(res).id, opensAt });
  }
  sleep(Math.max(0, (start - Date.now()) / 1000));
  return { events };
}

/** The sale a click goes to: mostly the newest open one, sometimes another (early or late clicks). */
function pickEvent(events) {
  if (events.length === 1) return 0;
  if (Math.random() < 0.1) return Math.floor(Math.random() * events.length);
  const now = Date.now();
  let pick = 0;
  for (let i = 0; i < events.length; i++) if (events[i].opensAt <= now) pick = i;
  return pick;
}

export default function (data) {
  const n = exec.scenario.iterationInTest;
  // Each user clicks at least once (iterations are numbered across all pods when the run is split
  // by execution segments); later iterations are repeated clicks of random users.
  const user = `u-${config.runId}-${n < shape.users ? n : Math.floor(Math.random() * shape.users)}`;
  const e = pickEvent(data.events);
  const wait = config.scenario !== 'burst' && n % 5 === 0 ? '?wait=1500' : '';
  const res = http.post(
    `${config.baseUrl}/v1/events/${data.events[e].id}/reservations${wait}`,
    JSON.stringify({ userId: user }),
    {
      headers: { 'content-type': 'application/json' },
      tags: { name: 'reserve' },
      timeout: '15s',
    },
  );
  const b = res.status ? body(res) : {};
  check(res, {
    'answer is a decision or a known refusal': (r) => r.status !== 0 && r.status < 500,
  });
  if (config.logAnswers) {
    // One compact line per answer: the raw sample (status, duration) and the user's history entry.
    console.log(
      JSON.stringify({
        k: 'a',
        u: user,
        e,
        s: res.status,
        c: b.code,
        st: typeof b.status === 'string' ? b.status : b.reservationStatus,
        r: b.reservationId,
        ms: Math.round(res.timings.duration * 100) / 100,
      }),
    );
  }
}

/** Waits until the sale has settled (queue empty, no drift), then asserts I1, I2, I6 (and I4 for a single sale) on the audit. */
export function teardown(data) {
  if (!config.adminToken) {
    console.warn('ADMIN_TOKEN is not set: the audit checks are skipped');
    return;
  }
  const deadline = Date.now() + config.drainTimeoutS * 1000;
  data.events.forEach((ev, i) => {
    let a = {};
    for (;;) {
      const res = http.get(`${config.baseUrl}/v1/events/${ev.id}/audit`, {
        headers: adminHeaders(),
        tags: { name: 'audit' },
      });
      a = res.status === 200 ? body(res) : { status: res.status };
      // Settled: nothing of the sale left in the queue, and the reconciler has brought Redis in line.
      if ((res.status === 200 && a.pendingInQueue === 0 && a.drift === 0) || Date.now() > deadline)
        break;
      sleep(1);
    }
    const single = data.events.length === 1;
    const ok = check(a, {
      'audit answered': (x) => typeof x.sold === 'number',
      'queue drained': (x) => x.pendingInQueue === 0,
      'I1 never oversold': (x) =>
        x.oversold === false && x.sold <= x.capacity && x.reservations === x.sold,
      'I2 one ticket per user': (x) => x.duplicateHolders === 0,
      'I4 sold out when enough users asked': (x) =>
        !single || shape.users < x.capacity || x.sold === x.capacity,
      'I6 Redis agrees with Postgres': (x) => x.remainingRedis === x.capacity - x.sold,
    });
    if (!ok) violations.add(1);
    console.log(JSON.stringify({ k: 'audit', e: i, ok, audit: a }));
  });
}
