import { useState } from 'react';
import type { FeedItem } from '../../../src/api-types.js';
import { formatClock } from '../format.js';

const KINDS: Array<{ kind: FeedItem['kind']; label: string }> = [
  { kind: 'error', label: 'Errors' },
  { kind: 'event', label: 'Events' },
  { kind: 'decision', label: 'Scaling decisions' },
];

/** Errors seen by the backend, Kubernetes Events and the operator's decisions, newest first. */
export function Feed({ feed }: { feed: FeedItem[] | undefined }) {
  const [shown, setShown] = useState<Record<FeedItem['kind'], boolean>>({
    error: true,
    event: true,
    decision: true,
  });
  const items = (feed ?? []).filter((f) => shown[f.kind]);
  return (
    <section className="panel" aria-labelledby="feed-title" data-testid="feed">
      <header className="panel-head">
        <h2 id="feed-title">Feed</h2>
        <div className="filters" role="group" aria-label="Show in the feed">
          {KINDS.map(({ kind, label }) => (
            <button
              key={kind}
              type="button"
              aria-pressed={shown[kind]}
              onClick={() => setShown((s) => ({ ...s, [kind]: !s[kind] }))}
            >
              {label}
            </button>
          ))}
        </div>
      </header>
      {!feed ? (
        <p className="state state-loading" role="status">
          Loading…
        </p>
      ) : items.length === 0 ? (
        <p className="state state-empty">Nothing to report.</p>
      ) : (
        <ol className="feed" tabIndex={0} aria-label="Feed items">
          {items.map((f, i) => (
            <li key={`${f.at}-${f.title}-${i}`} className={`feed-${f.severity}`} data-kind={f.kind}>
              <time dateTime={f.at}>{formatClock(Date.parse(f.at))}</time>
              <span className={`tag tag-${f.kind}`}>{f.kind}</span>
              <span className="feed-title">{f.title}</span>
              <span className="feed-object">{f.object}</span>
              {f.count > 1 ? <span className="muted">×{f.count}</span> : null}
              <span className="feed-detail">{f.detail}</span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
