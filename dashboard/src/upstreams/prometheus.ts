// Prometheus's HTTP API. Every answer is checked: non-2xx, status != success, the wrong result
// type, NaN/Inf values (kept as gaps, never as numbers) and an empty result (no series: an answer,
// which the page shows as "no data").
import { z } from 'zod';
import type { Series } from '../api-types.js';
import { UpstreamCode, UpstreamError } from './errors.js';
import { fetchJson, joinUrl } from './http.js';

const sampleValue = z.tuple([z.number(), z.string()]);
const answer = z.object({
  status: z.enum(['success', 'error']),
  error: z.string().optional(),
  errorType: z.string().optional(),
  data: z
    .object({
      resultType: z.string(),
      result: z.array(
        z.object({
          metric: z.record(z.string(), z.string()),
          value: sampleValue.optional(),
          values: z.array(sampleValue).optional(),
        }),
      ),
    })
    .optional(),
});

export interface PrometheusOptions {
  /** Base URL, sub-path included; user:password in it becomes basic auth. */
  url: string;
  bearerToken?: string;
  timeoutMs: number;
}

/** An instant sample: labels and a finite value. */
export interface Sample {
  labels: Record<string, string>;
  value: number;
}

function finite(v: string): number | null {
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** A small, checked client of Prometheus's query API. */
export class Prometheus {
  private readonly base: URL;
  private readonly headers: Record<string, string> = {};

  constructor(private readonly opts: PrometheusOptions) {
    this.base = new URL(opts.url);
    if (this.base.username)
      this.headers.authorization = `Basic ${Buffer.from(
        `${decodeURIComponent(this.base.username)}:${decodeURIComponent(this.base.password)}`,
      ).toString('base64')}`;
    if (opts.bearerToken) this.headers.authorization = `Bearer ${opts.bearerToken}`;
  }

  /** The URL of an API path (exposed for tests of the sub-path handling). */
  url(path: string, params: Record<string, string> = {}): URL {
    const u = joinUrl(this.base, path);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    return u;
  }

  /** The headers sent with every call (auth). */
  get requestHeaders(): Readonly<Record<string, string>> {
    return this.headers;
  }

  private async call(path: string, params: Record<string, string>, resultType: string) {
    const { body } = await fetchJson(
      {
        source: 'prometheus',
        url: this.url(path, params),
        timeoutMs: this.opts.timeoutMs,
        headers: this.headers,
        // Prometheus answers a bad query with 400/422 and a JSON error worth showing.
        accept: [400, 422],
      },
      answer,
    );
    if (body.status !== 'success' || !body.data)
      throw new UpstreamError(
        'prometheus',
        UpstreamCode.BadAnswer,
        `query failed: ${body.errorType ?? ''} ${body.error ?? 'no data'}`.trim(),
      );
    if (body.data.resultType !== resultType)
      throw new UpstreamError(
        'prometheus',
        UpstreamCode.BadAnswer,
        `expected a ${resultType}, got a ${body.data.resultType}`,
      );
    return body.data.result;
  }

  /** An instant query; samples whose value is NaN/Inf are left out. */
  async query(promql: string): Promise<Sample[]> {
    const result = await this.call('api/v1/query', { query: promql }, 'vector');
    const out: Sample[] = [];
    for (const r of result) {
      const v = r.value ? finite(r.value[1]) : null;
      if (v !== null) out.push({ labels: r.metric, value: v });
    }
    return out;
  }

  /** A range query; NaN/Inf points become null (a gap), series are named by `nameOf`. */
  async queryRange(
    promql: string,
    range: { start: number; end: number; step: number },
    nameOf: (labels: Record<string, string>) => string,
  ): Promise<Series[]> {
    const result = await this.call(
      'api/v1/query_range',
      {
        query: promql,
        start: String(range.start),
        end: String(range.end),
        step: String(range.step),
      },
      'matrix',
    );
    return result.map((r) => ({
      name: nameOf(r.metric),
      points: (r.values ?? []).map(([t, v]) => [t, finite(v)] as [number, number | null]),
    }));
  }

  /** Resolves when Prometheus answers a trivial query. */
  async ping(): Promise<void> {
    await this.query('vector(1)');
  }
}
