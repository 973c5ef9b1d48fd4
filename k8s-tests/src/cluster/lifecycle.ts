// Cleanup that runs however a runner ends: normally, on SIGINT/SIGTERM, or when its overall time
// bound passes (then it exits non-zero). Cleanups run once, newest first.

type Cleanup = () => Promise<void>;
const cleanups: Cleanup[] = [];
let running: Promise<void> | undefined;

/** Registers a cleanup (e.g. deleting a Job) to run at the end, also on interrupt. */
export function atExit(fn: Cleanup): void {
  cleanups.unshift(fn);
}

/** Runs every registered cleanup once (later calls wait for the first). */
export function runCleanups(): Promise<void> {
  running ??= (async () => {
    for (const fn of cleanups) {
      try {
        await fn();
      } catch (err) {
        process.stderr.write(`cleanup failed: ${String(err)}\n`);
      }
    }
  })();
  return running;
}

/**
 * Installs the signal handlers and the overall time bound: on SIGINT/SIGTERM or after boundS the
 * cleanups run and the process exits (130, 143, or 1).
 */
export function guard(boundS: number, log: (msg: string) => void): void {
  const stop = (why: string, code: number) => {
    log(`${why}: cleaning up`);
    void runCleanups().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => stop('interrupted (SIGINT)', 130));
  process.once('SIGTERM', () => stop('terminated (SIGTERM)', 143));
  setTimeout(
    () => stop(`still running after ${boundS}s, the bound of this run`, 1),
    boundS * 1000,
  ).unref();
}
