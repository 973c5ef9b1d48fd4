import type { AutoscalerView, Health, LiveState, Section } from '../../../src/api-types.js';
import { formatAge, formatClock, formatNumber, formatRate } from '../format.js';

const WORD: Record<Health['state'], string> = { up: 'up', down: 'down', unknown: 'unknown' };

/** One light per dependency; the state is written out, never shown by colour alone. */
export function HealthStrip({
  health,
  connected,
}: {
  health: Health[] | undefined;
  connected: boolean;
}) {
  return (
    <section className="health" aria-labelledby="health-title" data-testid="health">
      <h2 id="health-title" className="sr-only">
        Health
      </h2>
      <ul>
        <li
          className={`light ${connected ? 'up' : 'down'}`}
          title={connected ? 'live updates arriving' : 'reconnecting'}
        >
          <span className="dot" aria-hidden="true" />
          <span className="light-name">live</span>
          <span className="light-state">{connected ? 'connected' : 'reconnecting'}</span>
        </li>
        {(health ?? []).map((h) => (
          <li
            key={h.name}
            className={`light ${h.state}`}
            title={h.detail}
            data-testid={`health-${h.name}`}
            data-state={h.state}
          >
            <span className="dot" aria-hidden="true" />
            <span className="light-name">{h.name}</span>
            <span className="light-state">{WORD[h.state]}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function SectionError({ s }: { s: Section<unknown> }) {
  return s.ok ? null : (
    <p className="state state-error" role="alert">
      <strong>Unavailable.</strong> {s.error.message}
    </p>
  );
}

/** Deployments desired/ready and the pods with phase, readiness, restarts, age and node. */
export function Workloads({ state }: { state: LiveState | undefined }) {
  return (
    <section className="panel wide" aria-labelledby="workloads-title" data-testid="workloads">
      <header className="panel-head">
        <h2 id="workloads-title">Workloads</h2>
        {state ? <div className="figure muted">namespace {state.namespace}</div> : null}
      </header>
      {!state ? (
        <p className="state state-loading" role="status">
          Loading…
        </p>
      ) : (
        <>
          <SectionError s={state.deployments} />
          {state.deployments.ok && state.deployments.data.length === 0 ? (
            <p className="state state-empty">No Deployments in this namespace.</p>
          ) : null}
          {state.deployments.ok && state.deployments.data.length > 0 ? (
            <ul className="deployments">
              {state.deployments.data.map((d) => (
                <li
                  key={d.name}
                  data-testid={`deployment-${d.name}`}
                  className={d.ready < d.desired ? 'degraded' : ''}
                >
                  <span className="dep-name">{d.name}</span>
                  <span className="dep-count">
                    <span data-testid={`deployment-${d.name}-ready`}>{d.ready}</span>
                    {' / '}
                    <span data-testid={`deployment-${d.name}-desired`}>{d.desired}</span>
                  </span>
                  <span className="muted">ready / desired</span>
                </li>
              ))}
            </ul>
          ) : null}
          <SectionError s={state.pods} />
          {state.pods.ok && state.pods.data.length > 0 ? (
            <div className="table-wrap" tabIndex={0} role="region" aria-label="Pods table">
              <table>
                <caption className="sr-only">Pods</caption>
                <thead>
                  <tr>
                    <th scope="col">Pod</th>
                    <th scope="col">Phase</th>
                    <th scope="col">Ready</th>
                    <th scope="col">Restarts</th>
                    <th scope="col">Age</th>
                    <th scope="col">Node</th>
                  </tr>
                </thead>
                <tbody>
                  {state.pods.data.map((p) => (
                    <tr key={p.name}>
                      <th scope="row">{p.name}</th>
                      <td>{p.reason ? `${p.phase} (${p.reason})` : p.phase}</td>
                      <td>{p.ready ? 'yes' : 'no'}</td>
                      <td className={p.restarts > 0 ? 'warn' : ''}>{formatNumber(p.restarts)}</td>
                      <td>{formatAge(p.ageSeconds)}</td>
                      <td>{p.node ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : state.pods.ok ? (
            <p className="state state-empty">No pods.</p>
          ) : null}
        </>
      )}
    </section>
  );
}

/** The operator's view: inputs, wish and the reason of its last decision, or "not installed". */
export function Autoscaler({ section }: { section: Section<AutoscalerView> | undefined }) {
  return (
    <section className="panel" aria-labelledby="autoscaler-title" data-testid="autoscaler">
      <header className="panel-head">
        <h2 id="autoscaler-title">Autoscaler</h2>
      </header>
      {!section ? (
        <p className="state state-loading" role="status">
          Loading…
        </p>
      ) : !section.ok ? (
        <SectionError s={section} />
      ) : !section.data.installed ? (
        <p className="state state-empty" data-testid="autoscaler-not-installed">
          Not installed: this cluster has no ReservationAutoscaler resource (the operator&apos;s
          CRD), so nothing scales the reservation Deployment.
        </p>
      ) : section.data.items.length === 0 ? (
        <p className="state state-empty" data-testid="autoscaler-none">
          Not installed here: no ReservationAutoscaler in this namespace, so nothing scales the
          reservation Deployment.
        </p>
      ) : (
        section.data.items.map((a) => (
          <div key={a.name} className="scaler">
            <dl className="facts">
              <div>
                <dt>target</dt>
                <dd>{a.target || '—'}</dd>
              </div>
              <div>
                <dt>replicas (min–max)</dt>
                <dd>
                  {formatNumber(a.minReplicas)}–{formatNumber(a.maxReplicas)}
                </dd>
              </div>
              <div>
                <dt>decided / set / current</dt>
                <dd data-testid="autoscaler-desired">
                  {formatNumber(a.recommendedReplicas)} / {formatNumber(a.desiredReplicas)} /{' '}
                  {formatNumber(a.currentReplicas)}
                </dd>
              </div>
              <div>
                <dt>observed RPS</dt>
                <dd>{a.observedRps === null ? 'unavailable' : formatRate(a.observedRps)}</dd>
              </div>
              <div>
                <dt>observed backlog</dt>
                <dd>
                  {a.observedBacklog === null ? 'unavailable' : formatNumber(a.observedBacklog)}
                </dd>
              </div>
              <div>
                <dt>last decision</dt>
                <dd data-testid="autoscaler-reason">
                  {a.lastReason ?? '—'}
                  {a.lastDecisionAt ? ` at ${formatClock(Date.parse(a.lastDecisionAt))}` : ''}
                </dd>
              </div>
              <div>
                <dt>last scaled</dt>
                <dd>{a.lastScaleAt ? formatClock(Date.parse(a.lastScaleAt)) : 'not yet'}</dd>
              </div>
              {a.mode !== 'active' ? (
                <div>
                  <dt>mode</dt>
                  <dd data-testid="autoscaler-mode">
                    {a.mode === 'paused'
                      ? 'paused: decides, changes nothing'
                      : 'dry run: decides, changes nothing'}
                  </dd>
                </div>
              ) : null}
            </dl>
            {a.preScale ? <p className="muted">Pre-scale: {a.preScale}</p> : null}
            {a.lastMessage ? <p className="muted">{a.lastMessage}</p> : null}
            {a.conditions.length ? (
              <ul className="conditions" aria-label="Conditions">
                {a.conditions.map((c) => (
                  <li key={c.type} className={c.status === 'True' ? 'ok' : 'bad'}>
                    {c.type}: {c.status === 'True' ? 'yes' : 'no'}
                    {c.reason ? ` (${c.reason})` : ''}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ))
      )}
    </section>
  );
}
