// The request a piece of work belongs to, carried through async calls without passing it down:
// the HTTP entry point runs each request inside runInRequest(), and the logger's mixin adds the
// request id to every line written meanwhile — the use cases' lines included.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestContext {
  requestId: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `f` (and everything it starts) as part of the request `ctx`. */
export function runInRequest<T>(ctx: RequestContext, f: () => T): T {
  return storage.run(ctx, f);
}

/** The request the caller is serving, if any. */
export function currentRequest(): RequestContext | undefined {
  return storage.getStore();
}
