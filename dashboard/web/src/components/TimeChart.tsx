import {
  Area,
  AreaChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { formatClock } from '../format.js';
import type { Row } from '../processors.js';

// Colours chosen for at least 4.5:1 against the white panel, so the legend text passes too.
const PALETTE = ['#1f5fbf', '#0f7b3c', '#7a3fd1', '#b35900', '#b42318', '#0e6e80', '#8a5a00'];
const NAMED: Record<string, string> = {
  desired: '#1f5fbf',
  ready: '#0f7b3c',
  autoscaler: '#7a3fd1',
  p50: '#0f7b3c',
  p95: '#b35900',
  p99: '#b42318',
  confirmed: '#0f7b3c',
  'sold out': '#b35900',
  'already reserved': '#1f5fbf',
  errors: '#b42318',
};
/** The colour of a series: fixed for known names, from the palette otherwise. */
export const colorOf = (key: string, i: number): string =>
  NAMED[key] ?? PALETTE[i % PALETTE.length]!;

const AXIS = { fill: '#3d4652', fontSize: 12 };

export interface TimeChartProps {
  rows: Row[];
  keys: string[];
  format: (v: number) => string;
  /** Stacked areas (outcomes) instead of lines. */
  stacked?: boolean;
  /** Step lines for counts (replicas). */
  step?: boolean;
  label: string;
  height?: number;
}

/** Series over time, with a text summary for screen readers. */
export function TimeChart({
  rows,
  keys,
  format,
  stacked,
  step,
  label,
  height = 200,
}: TimeChartProps) {
  const last = rows.at(-1);
  const summary = `${label}. Latest: ${keys.map((k) => `${k} ${last?.[k] === null || last?.[k] === undefined ? 'no value' : format(last[k])}`).join(', ')}.`;
  const common = {
    data: rows,
    margin: { top: 8, right: 12, bottom: 0, left: 0 },
  };
  const axes = [
    <CartesianGrid key="g" stroke="#e3e6ea" vertical={false} />,
    <XAxis
      key="x"
      dataKey="t"
      type="number"
      scale="time"
      domain={['dataMin', 'dataMax']}
      tickFormatter={formatClock}
      tick={AXIS}
      minTickGap={40}
    />,
    <YAxis
      key="y"
      tickFormatter={format}
      tick={AXIS}
      width={64}
      allowDecimals={!step}
      // An all-zero series would otherwise get an arbitrary 0–4 scale (400% errors, 4 ms).
      domain={[0, (max: number) => (max > 0 ? max : 1)]}
    />,
    <Tooltip
      key="tt"
      labelFormatter={(t) => formatClock(Number(t))}
      formatter={(v) => (typeof v === 'number' ? format(v) : String(v))}
    />,
    <Legend key="l" wrapperStyle={{ fontSize: 12, color: '#1b1f24' }} />,
  ];
  return (
    <div className="chart">
      <p className="sr-only">{summary}</p>
      <ResponsiveContainer width="100%" height={height}>
        {stacked ? (
          <AreaChart {...common}>
            {axes}
            {keys.map((k, i) => (
              <Area
                key={k}
                dataKey={k}
                stackId="1"
                type="monotone"
                stroke={colorOf(k, i)}
                fill={colorOf(k, i)}
                fillOpacity={0.35}
                isAnimationActive={false}
              />
            ))}
          </AreaChart>
        ) : (
          <LineChart {...common}>
            {axes}
            {keys.map((k, i) => (
              <Line
                key={k}
                dataKey={k}
                type={step ? 'stepAfter' : 'monotone'}
                stroke={colorOf(k, i)}
                strokeWidth={2}
                strokeDasharray={k === 'autoscaler' ? '5 3' : undefined}
                dot={false}
                isAnimationActive={false}
                connectNulls={false}
              />
            ))}
          </LineChart>
        )}
      </ResponsiveContainer>
    </div>
  );
}
