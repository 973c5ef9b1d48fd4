import {
  newSaleHistory,
  recordAnswer,
  recordError,
  userOf,
  type SaleHistory,
} from '@flashsale/invariants';

/** One answer a k6 VU got, as main.js logs it (one JSON line per request). */
export interface AnswerLine {
  /** userId */
  u: string;
  /** index of the sale in the run's list */
  e: number;
  /** HTTP status; 0 when no answer came (connection refused, reset, timeout) */
  s: number;
  /** problem+json code */
  c?: string;
  /** reservation state: pending, confirmed, rejected */
  st?: string;
  /** reservationId */
  r?: string;
  /** request duration in ms (k6's http_req_duration) */
  ms: number;
}

/** The audit a pod's teardown saw for one sale. */
export interface AuditLine {
  e: number;
  ok: boolean;
  audit: Record<string, unknown>;
}

export type Parsed =
  | { kind: 'answer'; answer: AnswerLine }
  | { kind: 'audit'; audit: AuditLine }
  | { kind: 'log'; level: string; msg: string }
  | { kind: 'text'; text: string };

/**
 * Parses one line of a k6 pod's log (k6 runs with --log-format=json: its own messages and the
 * script's console lines are JSON objects; the end-of-run summary is plain text).
 */
export function parseLine(line: string): Parsed {
  const text = line.trim();
  if (!text.startsWith('{')) return { kind: 'text', text };
  let outer: Record<string, unknown>;
  try {
    outer = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { kind: 'text', text };
  }
  const msg = typeof outer.msg === 'string' ? outer.msg : '';
  const level = typeof outer.level === 'string' ? outer.level : 'info';
  if (outer.source === 'console' && msg.startsWith('{')) {
    try {
      const inner = JSON.parse(msg) as Record<string, unknown>;
      if (inner.k === 'a' && typeof inner.u === 'string' && typeof inner.s === 'number')
        return { kind: 'answer', answer: inner as unknown as AnswerLine };
      if (inner.k === 'audit' && typeof inner.e === 'number')
        return { kind: 'audit', audit: inner as unknown as AuditLine };
    } catch {
      /* a console line that is not ours */
    }
  }
  return { kind: 'log', level, msg };
}

/** The statuses that are decisions or known refusals (the script's http.expectedStatuses). */
export const EXPECTED = new Set([200, 201, 202, 409]);

/** Figures of the whole load, computed from the merged samples of every pod. */
export interface LoadStats {
  requests: number;
  failed: number;
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  byStatus: Record<string, number>;
}

/**
 * The q-quantile (0..1) of ascending values, interpolated linearly between the two nearest ranks
 * (the way k6 computes trend percentiles).
 */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return a + (b - a) * (pos - lo);
}

/** Merges the answers of all pods into one set of figures: percentiles over every sample. */
export function stats(answers: AnswerLine[]): LoadStats {
  const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
  const byStatus: Record<string, number> = {};
  let failed = 0;
  for (const a of answers) {
    const key = a.s === 0 ? 'error' : String(a.s);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    if (!EXPECTED.has(a.s)) failed++;
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    requests: answers.length,
    failed,
    errorRate: answers.length ? failed / answers.length : 0,
    p50Ms: round(quantile(ms, 0.5)),
    p95Ms: round(quantile(ms, 0.95)),
    p99Ms: round(quantile(ms, 0.99)),
    maxMs: round(ms[ms.length - 1] ?? 0),
    byStatus,
  };
}

/** The thresholds of a scenario (k8s-tests/k6/profiles.json). */
export interface Thresholds {
  p95Ms: number;
  p99Ms: number;
  errorRate: number;
}

/** Which thresholds the merged figures break (empty: all passed). No answers at all is a failure. */
export function judge(s: LoadStats, t: Thresholds): string[] {
  const failures: string[] = [];
  if (s.requests === 0) failures.push('no request was answered or logged');
  if (!(s.p95Ms < t.p95Ms)) failures.push(`p95 ${s.p95Ms} ms >= ${t.p95Ms} ms`);
  if (!(s.p99Ms < t.p99Ms)) failures.push(`p99 ${s.p99Ms} ms >= ${t.p99Ms} ms`);
  if (!(s.errorRate < t.errorRate))
    failures.push(`error rate ${(s.errorRate * 100).toFixed(2)}% >= ${t.errorRate * 100}%`);
  return failures;
}

/**
 * What each user was told, per sale, from the answers: the client history the shared invariant
 * checker (@flashsale/invariants) judges. `eventIds` are the run's sales in the script's order.
 */
export function histories(answers: AnswerLine[], eventIds: string[]): SaleHistory[] {
  const out = eventIds.map((id) => newSaleHistory(id));
  for (const a of answers) {
    const sale = out[a.e];
    if (!sale) continue;
    const h = userOf(sale, a.u);
    if (a.s === 0) recordError(h);
    else recordAnswer(h, a.s, { code: a.c, status: a.st, reservationId: a.r });
  }
  return out;
}
