// JSON over HTTP, as a test's client sees it.

export interface HttpAnswer<T = Record<string, unknown>> {
  status: number;
  body: T;
  headers: Headers;
  contentType: string;
}

/** JSON over HTTP (fetch keeps connections alive). */
export async function http<T = Record<string, unknown>>(
  url: string,
  init: {
    method?: string;
    body?: unknown;
    token?: string;
    headers?: Record<string, string>;
    raw?: string;
  } = {},
): Promise<HttpAnswer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined && !headers['content-type'])
    headers['content-type'] = 'application/json';
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  const res = await fetch(url, {
    method: init.method ?? (init.body !== undefined || init.raw !== undefined ? 'POST' : 'GET'),
    headers,
    ...(init.raw !== undefined
      ? { body: init.raw }
      : init.body !== undefined
        ? { body: JSON.stringify(init.body) }
        : {}),
  });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let body: unknown = text;
  if (/json/.test(contentType)) body = text ? JSON.parse(text) : null;
  return { status: res.status, body: body as T, headers: res.headers, contentType };
}
