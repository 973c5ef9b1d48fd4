// The graceful stop, in order: stop accepting (readiness fails, the listener closes), answer the
// requests in flight (waiting clients get "still pending" now), finish the batch in hand, then
// close the connections to NATS, Redis and Postgres. Connections still open after
// SHUTDOWN_TIMEOUT_MS are cut, so a stop always ends before the pod's grace period does.
import type { Server } from 'node:http';
import type { Logger } from './logger.js';

export interface ShutdownDeps {
  server: Server;
  log: Logger;
  timeoutMs: number;
  /** Marks the process as stopping (readiness turns false). */
  beginStopping(): void;
  /** Ends the waits of clients that asked for their decision (they answer 202 now). */
  releaseWaiters(): void;
  /** Stops taking work and finishes the batch in hand (worker role). */
  stopWorker(): Promise<void>;
  /** Background loops that stop at once (health refresh, reconciler). */
  stopTimers(): void;
  /** Closes the dependencies' connections, in order. */
  closers: Array<() => Promise<unknown>>;
}

/** Returns stop(): runs the sequence once; later calls share the first run. */
export function gracefulStop(d: ShutdownDeps): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () =>
    (stopped ??= (async () => {
      d.beginStopping();
      d.log.info(
        { timeoutMs: d.timeoutMs },
        'stopping: no new connections, finishing in-flight work',
      );
      const closed = new Promise<void>((r) => d.server.close(() => r()));
      // Keep-alive connections close as soon as their last response is out.
      const idle = setInterval(() => d.server.closeIdleConnections(), 100);
      d.server.closeIdleConnections();
      d.releaseWaiters();
      const force = setTimeout(() => {
        d.log.warn(
          { timeoutMs: d.timeoutMs },
          'shutdown timeout: closing the remaining connections',
        );
        d.server.closeAllConnections();
      }, d.timeoutMs);
      await Promise.all([closed, d.stopWorker()]);
      clearTimeout(force);
      clearInterval(idle);
      d.stopTimers();
      for (const close of d.closers) await close().catch(() => undefined);
      d.log.info({}, 'stopped');
    })());
}

/** After the stop timeout, this long more for closing connections before the process exits. */
export const EXIT_MARGIN_MS = 5000;

/**
 * Stops on SIGTERM / SIGINT and exits 0 when the stop completed, 1 when it failed or when it did
 * not end within `timeoutMs` + EXIT_MARGIN_MS (the pod's grace period is set above that).
 */
export function stopOnSignals(stop: () => Promise<void>, timeoutMs: number): void {
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      setTimeout(() => process.exit(1), timeoutMs + EXIT_MARGIN_MS).unref();
      stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
