// The page's one way to the backend: typed JSON calls that throw an ApiError carrying the status
// and the problem+json code, so every component handles failures the same way.
import type {
  CreateSaleRequest,
  LaunchLoadTestRequest,
  LoadTestRun,
  Problem,
  Traffic,
} from '../../src/api-types.js';

/** A failed call: HTTP status (0 = no answer), stable code and a message for people. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem?: Problem,
  ) {
    super(message);
  }
}

/** Calls the backend and returns its JSON as T; throws ApiError on anything else. */
export async function request<T>(
  path: string,
  init: { method?: 'GET' | 'POST'; body?: unknown; token?: string; signal?: AbortSignal } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: {
        accept: 'application/json',
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (err) {
    throw new ApiError(0, 'network', `the dashboard backend does not answer (${String(err)})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, 'bad_answer', `${path}: the answer is not JSON`);
  }
  if (!res.ok) {
    const p = json as Partial<Problem> | undefined;
    throw new ApiError(
      res.status,
      p?.code ?? 'http_status',
      p?.detail ?? `${path} answered ${res.status}`,
      p as Problem | undefined,
    );
  }
  return json as T;
}

export const api = {
  traffic: (minutes: number, signal?: AbortSignal) =>
    request<Traffic>(`/api/traffic?minutes=${minutes}`, signal ? { signal } : {}),
  createSale: (body: CreateSaleRequest, token: string) =>
    request<{ id: string; name: string }>('/api/sales', { method: 'POST', body, token }),
  launchLoadTest: (body: LaunchLoadTestRequest, token: string) =>
    request<LoadTestRun>('/api/loadtests', { method: 'POST', body, token }),
};
