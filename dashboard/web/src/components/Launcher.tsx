import { useState, type FormEvent } from 'react';
import type { LiveState } from '../../../src/api-types.js';
import { api, ApiError } from '../api.js';
import { formatMs, formatNumber, formatPercent, formatRate } from '../format.js';

type Status =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'ok'; message: string }
  | { kind: 'error'; message: string };

function StatusLine({ s }: { s: Status }) {
  if (s.kind === 'idle') return null;
  if (s.kind === 'busy')
    return (
      <p className="state" role="status">
        Working…
      </p>
    );
  return (
    <p
      className={s.kind === 'ok' ? 'state state-ok' : 'state state-error'}
      role={s.kind === 'ok' ? 'status' : 'alert'}
    >
      {s.message}
    </p>
  );
}

const errorText = (err: unknown) =>
  err instanceof ApiError ? `${err.message} (${err.code})` : String(err);

/** Create a sale and launch the rush (a k6 Job): both need the admin token. */
export function Launcher({ state }: { state: LiveState | undefined }) {
  const [token, setToken] = useState('');
  const [saleName, setSaleName] = useState('Concert');
  const [capacity, setCapacity] = useState('500');
  const [startsIn, setStartsIn] = useState('60');
  const [eventId, setEventId] = useState('');
  const [vus, setVus] = useState('200');
  const [duration, setDuration] = useState('60');
  const [saleStatus, setSaleStatus] = useState<Status>({ kind: 'idle' });
  const [launchStatus, setLaunchStatus] = useState<Status>({ kind: 'idle' });
  const sales = state?.sales.ok ? state.sales.data : [];
  const chosen = eventId || sales[0]?.id || '';
  const disabled = state !== undefined && !state.adminEnabled;

  const createSale = (e: FormEvent) => {
    e.preventDefault();
    setSaleStatus({ kind: 'busy' });
    const seconds = Number(startsIn);
    api
      .createSale(
        {
          name: saleName,
          capacity: Number(capacity),
          ...(seconds > 0
            ? { saleStartsAt: new Date(Date.now() + seconds * 1000).toISOString() }
            : {}),
        },
        token,
      )
      .then(
        (sale) => {
          setEventId(sale.id);
          setSaleStatus({ kind: 'ok', message: `Sale “${sale.name}” created.` });
        },
        (err: unknown) => setSaleStatus({ kind: 'error', message: errorText(err) }),
      );
  };

  const launch = (e: FormEvent) => {
    e.preventDefault();
    setLaunchStatus({ kind: 'busy' });
    api
      .launchLoadTest(
        { eventId: chosen, vus: Number(vus), durationSeconds: Number(duration) },
        token,
      )
      .then(
        (run) => setLaunchStatus({ kind: 'ok', message: `Load test ${run.name} launched.` }),
        (err: unknown) => setLaunchStatus({ kind: 'error', message: errorText(err) }),
      );
  };

  return (
    <section className="panel full" aria-labelledby="launcher-title" data-testid="launcher">
      <header className="panel-head">
        <h2 id="launcher-title">Launch the rush</h2>
      </header>
      {disabled ? (
        <p className="state state-empty">
          Admin actions are off: the dashboard has no admin token configured.
        </p>
      ) : null}
      <div className="forms">
        <label className="field token">
          <span>Admin token</span>
          <input
            type="password"
            autoComplete="off"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            disabled={disabled}
          />
        </label>
        <form onSubmit={createSale} aria-labelledby="create-sale-title">
          <h3 id="create-sale-title">New sale</h3>
          <label className="field">
            <span>Name</span>
            <input
              required
              maxLength={200}
              value={saleName}
              onChange={(e) => setSaleName(e.target.value)}
              disabled={disabled}
            />
          </label>
          <label className="field">
            <span>Tickets</span>
            <input
              type="number"
              required
              min={1}
              max={10_000_000}
              value={capacity}
              onChange={(e) => setCapacity(e.target.value)}
              disabled={disabled}
            />
          </label>
          <label className="field">
            <span>Opens in (seconds)</span>
            <input
              type="number"
              required
              min={0}
              value={startsIn}
              onChange={(e) => setStartsIn(e.target.value)}
              disabled={disabled}
            />
          </label>
          <button type="submit" disabled={disabled || !token}>
            Create sale
          </button>
          <StatusLine s={saleStatus} />
        </form>
        <form onSubmit={launch} aria-labelledby="launch-title">
          <h3 id="launch-title">Load test (k6 Job)</h3>
          <label className="field">
            <span>Sale</span>
            <select
              value={chosen}
              onChange={(e) => setEventId(e.target.value)}
              disabled={disabled || sales.length === 0}
            >
              {sales.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Virtual users</span>
            <input
              type="number"
              required
              min={1}
              value={vus}
              onChange={(e) => setVus(e.target.value)}
              disabled={disabled}
            />
          </label>
          <label className="field">
            <span>Duration (seconds)</span>
            <input
              type="number"
              required
              min={5}
              value={duration}
              onChange={(e) => setDuration(e.target.value)}
              disabled={disabled}
            />
          </label>
          <button type="submit" className="primary" disabled={disabled || !token || !chosen}>
            Launch the rush
          </button>
          <StatusLine s={launchStatus} />
        </form>
      </div>
      <h3>Load tests</h3>
      {!state ? (
        <p className="state state-loading" role="status">
          Loading…
        </p>
      ) : !state.loadTests.ok ? (
        <p className="state state-error" role="alert">
          <strong>Unavailable.</strong> {state.loadTests.error.message}
        </p>
      ) : state.loadTests.data.length === 0 ? (
        <p className="state state-empty">No load test has run yet.</p>
      ) : (
        <ul className="runs" data-testid="loadtests">
          {state.loadTests.data.map((r) => (
            <li key={r.name} data-testid={`loadtest-${r.name}`}>
              <span className="run-name">{r.name}</span>
              <span className={`badge badge-${r.state}`}>{r.state}</span>
              <span className="muted">
                {formatNumber(r.vus)} users · {formatNumber(r.durationSeconds)} s
              </span>
              {r.summary ? (
                <span className="run-summary" data-testid={`loadtest-${r.name}-summary`}>
                  {formatNumber(r.summary.requests)} requests ·{' '}
                  {formatRate(r.summary.requestsPerSecond)} · p95 {formatMs(r.summary.p95Ms)} ·
                  failed {formatPercent(r.summary.failedRate)}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
