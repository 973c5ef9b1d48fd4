import type { LiveState } from '../../../src/api-types.js';
import { formatCountdown, formatNumber } from '../format.js';
import { useNow } from '../hooks.js';
import { inventoryProcessor } from '../processors.js';
import { ChartPanel } from './Chart.js';

/** One bar per sale: sold, pending and remaining of the capacity, and a countdown to the start. */
export function Inventory({ sales }: { sales: LiveState['sales'] | undefined }) {
  const now = useNow();
  const state = sales ? inventoryProcessor(sales, now) : ({ kind: 'loading' } as const);
  return (
    <ChartPanel id="inventory" title="Inventory" state={state} className="wide">
      {({ bars }) => (
        <ul className="bars">
          {bars.map((b) => (
            <li key={b.id} data-testid={`sale-${b.id}`}>
              <div className="bar-head">
                <span className="bar-name">{b.name}</span>
                <span className={`badge badge-${b.state}`}>{b.state.replace('_', ' ')}</span>
                {b.opensIn !== null ? (
                  <span className="countdown" data-testid={`sale-${b.id}-countdown`}>
                    {formatCountdown(b.opensIn)}
                  </span>
                ) : null}
              </div>
              <div
                className="bar"
                role="img"
                aria-label={`${b.name}: ${formatNumber(b.sold)} sold, ${formatNumber(b.pending)} pending, ${formatNumber(b.remaining)} remaining of ${formatNumber(b.capacity)}`}
              >
                <span className="bar-sold" style={{ width: `${b.soldShare * 100}%` }} />
                <span className="bar-pending" style={{ width: `${b.pendingShare * 100}%` }} />
              </div>
              <p className="bar-figures">
                <span>
                  sold <strong data-testid={`sale-${b.id}-sold`}>{formatNumber(b.sold)}</strong>
                </span>
                <span>
                  pending <strong>{formatNumber(b.pending)}</strong>
                </span>
                <span>
                  remaining{' '}
                  <strong data-testid={`sale-${b.id}-remaining`}>
                    {formatNumber(b.remaining)}
                  </strong>
                </span>
                <span>of {formatNumber(b.capacity)}</span>
                {b.oversold ? <span className="warn">OVERSOLD</span> : null}
                {b.drift !== null && b.drift !== 0 ? (
                  <span className="warn">drift {formatNumber(b.drift)}</span>
                ) : null}
              </p>
            </li>
          ))}
        </ul>
      )}
    </ChartPanel>
  );
}
