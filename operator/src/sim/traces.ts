// The traffic traces the simulation replays. Demand is requests per second at each second.
import type { Trace } from './model.js';

const clamp = (t: number, a: number, b: number) => Math.max(a, Math.min(b, t));

/** The four traces of `make autoscale-sim`. */
export const TRACES: Trace[] = [
  {
    name: 'flash-sale',
    description:
      'A sale of 800 tickets opens at t=300 s (its saleStartsAt is known): 200 rps, then 8,000 rps in one second for 3 minutes, decaying to 200 rps',
    seconds: 1200,
    rushAt: 300,
    sale: { startsAt: 300, capacity: 800 },
    demand: (t) => (t < 300 ? 200 : t < 480 ? 8000 : 200 + 7800 * Math.exp(-(t - 480) / 60)),
  },
  {
    name: 'ramp',
    description:
      '300 rps, ramping to 6,000 rps over 5 minutes from t=60 s, holding 2 minutes, ramping down over 3 minutes',
    seconds: 1200,
    rushAt: 60,
    demand: (t) =>
      t < 60
        ? 300
        : t < 360
          ? 300 + (5700 * (t - 60)) / 300
          : t < 480
            ? 6000
            : 6000 - (5700 * clamp(t - 480, 0, 180)) / 180,
  },
  {
    name: 'spike',
    description: '300 rps with a spike to 5,000 rps at t=100 s that ends after 60 s',
    seconds: 900,
    rushAt: 100,
    demand: (t) => (t >= 100 && t < 160 ? 5000 : 300),
  },
  {
    name: 'prometheus-outage',
    description:
      '3,000 rps; Prometheus answers nothing for a minute from t=200 s, and demand rises to 6,000 rps in that minute (t=220 s)',
    seconds: 900,
    rushAt: 220,
    outage: { from: 200, to: 260 },
    demand: (t) => (t < 220 ? 3000 : t < 500 ? 6000 : 3000),
  },
];
