// The `helm test` of the flashsale chart: creates an event with one ticket through the Service,
// reserves it for one user and waits for the decision, then checks the audit. Runs with the
// reservation image's Node (global fetch); every step prints one JSON line; exit 1 on any failure.
const base = process.env.API_URL;
const token = process.env.ADMIN_TOKEN;
const deadline = Date.now() + Number(process.env.TIMEOUT_SECONDS ?? '60') * 1000;
const step = (name, detail) => console.log(JSON.stringify({ step: name, ...detail }));

// call retries while the answer is a network error or a 503 (pods still warming up).
async function call(method, path, body, admin) {
  for (;;) {
    try {
      const res = await fetch(base + path, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(admin ? { authorization: `Bearer ${token}` } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const json = await res.json().catch(() => ({}));
      if (res.status !== 503) return { status: res.status, json };
      step('retry', { path, status: res.status });
    } catch (err) {
      step('retry', { path, error: String(err) });
    }
    if (Date.now() > deadline) throw new Error(`${method} ${path}: no answer before the deadline`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function expect(cond, what, got) {
  if (!cond) {
    step('fail', { what, got });
    process.exit(1);
  }
}

const ev = await call('POST', '/v1/events', { name: `helm-test-${Date.now()}`, capacity: 1 }, true);
expect(ev.status === 201, 'event created (201)', ev);
step('event', { id: ev.json.id });
const userId = `helm-test-user-${Date.now()}`;
const r = await call('POST', `/v1/events/${ev.json.id}/reservations?wait=5000`, { userId });
expect(r.status === 201 || r.status === 202, 'reservation accepted (201/202)', r);
let status = r.json.status;
const id = r.json.reservationId;
while (status !== 'confirmed' && Date.now() < deadline) {
  await new Promise((res) => setTimeout(res, 500));
  const s = await call('GET', `/v1/reservations/${id}`);
  status = s.json.status;
}
expect(status === 'confirmed', 'reservation confirmed', status);
step('reservation', { id, status });
const a = await call('GET', `/v1/events/${ev.json.id}/audit`, undefined, true);
expect(
  a.status === 200 &&
    a.json.sold === 1 &&
    a.json.oversold === false &&
    a.json.duplicateHolders === 0,
  'audit: sold 1, not oversold, no duplicate holder',
  a,
);
step('ok', { sold: a.json.sold, oversold: a.json.oversold, duplicates: a.json.duplicateHolders });
