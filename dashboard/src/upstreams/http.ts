import type { z } from 'zod';
import type { UpstreamName } from '../api-types.js';
import { asUpstreamError, UpstreamCode, UpstreamError } from './errors.js';

export interface JsonRequest {
  source: UpstreamName;
  url: URL;
  timeoutMs: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: unknown;
  /** Statuses that are answers rather than failures (their body is returned as is). */
  accept?: number[];
}

/**
 * One JSON call to an upstream with every answer checked: a timeout, a refused connection, a
 * non-2xx status, a body that is not JSON or does not match `schema` each become an UpstreamError.
 */
export async function fetchJson<S extends z.ZodType>(
  req: JsonRequest,
  schema: S,
): Promise<{ status: number; body: z.output<S> }> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(req.url, {
      method: req.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...req.headers,
      },
      ...(req.body !== undefined ? { body: JSON.stringify(req.body) } : {}),
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    text = await res.text();
  } catch (err) {
    throw asUpstreamError(req.source, err);
  }
  const accepted = res.ok || (req.accept ?? []).includes(res.status);
  if (!accepted) {
    const code =
      res.status === 401 || res.status === 403
        ? UpstreamCode.Unauthorized
        : UpstreamCode.HttpStatus;
    throw new UpstreamError(
      req.source,
      code,
      `${req.url.pathname} answered ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
      res.status,
    );
  }
  if (!text)
    throw new UpstreamError(
      req.source,
      UpstreamCode.BadAnswer,
      `${req.url.pathname}: empty body`,
      res.status,
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UpstreamError(
      req.source,
      UpstreamCode.BadAnswer,
      `${req.url.pathname}: not JSON`,
      res.status,
      {
        cause: err,
      },
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new UpstreamError(
      req.source,
      UpstreamCode.BadAnswer,
      `${req.url.pathname}: unexpected answer (${parsed.error.issues[0]?.path.join('.') ?? ''}: ${parsed.error.issues[0]?.message ?? ''})`,
      res.status,
    );
  return { status: res.status, body: parsed.data };
}

/** `base` plus `path`, keeping the base's sub-path (http://h/prometheus + api/v1/query). */
export function joinUrl(base: URL, path: string): URL {
  const u = new URL(base.toString());
  u.username = '';
  u.password = '';
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
  u.search = '';
  u.hash = '';
  return u;
}
