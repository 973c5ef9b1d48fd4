import type { SectionError, UpstreamName } from '../api-types.js';

/** Stable codes of what went wrong talking to an upstream. */
export const UpstreamCode = {
  Timeout: 'timeout',
  Unreachable: 'unreachable',
  Unauthorized: 'unauthorized',
  HttpStatus: 'http_status',
  BadAnswer: 'bad_answer',
  NotConfigured: 'not_configured',
} as const;
export type UpstreamCode = (typeof UpstreamCode)[keyof typeof UpstreamCode];

/** An upstream (Kubernetes, Prometheus, the reservation service) failed or answered nonsense. */
export class UpstreamError extends Error {
  override readonly name = 'UpstreamError';
  constructor(
    readonly source: UpstreamName,
    readonly code: UpstreamCode,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(`${source}: ${message}`, options);
  }

  toSection(): SectionError {
    return { source: this.source, code: this.code, message: this.message };
  }
}

/** Turns anything thrown while calling `source` into an UpstreamError. */
export function asUpstreamError(source: UpstreamName, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err;
  const e = err as { name?: string; code?: string | number; message?: string; cause?: unknown };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return new UpstreamError(source, UpstreamCode.Timeout, 'no answer in time', undefined, {
      cause: err,
    });
  const causeCode = (e?.cause as { code?: string } | undefined)?.code ?? e?.code;
  const msg = String(e?.message ?? err);
  if (
    typeof causeCode === 'string' &&
    /ECONNREFUSED|ENOTFOUND|ECONNRESET|EHOSTUNREACH|EAI_AGAIN|UND_ERR/.test(causeCode)
  )
    return new UpstreamError(
      source,
      UpstreamCode.Unreachable,
      `unreachable (${causeCode})`,
      undefined,
      {
        cause: err,
      },
    );
  if (/ECONNREFUSED|ENOTFOUND|ECONNRESET|fetch failed|socket hang up/i.test(msg)) {
    // undici's "fetch failed" says nothing by itself: the reason is in its cause.
    const why = (e?.cause as { message?: string } | undefined)?.message;
    return new UpstreamError(
      source,
      UpstreamCode.Unreachable,
      why ? `${msg} (${why})` : msg,
      undefined,
      {
        cause: err,
      },
    );
  }
  return new UpstreamError(source, UpstreamCode.BadAnswer, msg, undefined, { cause: err });
}

/** Rejects with a timeout UpstreamError when `p` takes longer than `ms`. */
export async function within<T>(source: UpstreamName, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new UpstreamError(source, UpstreamCode.Timeout, `no answer in ${ms} ms`)),
      ms,
    );
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
