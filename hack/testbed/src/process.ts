import { spawn, type SpawnOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A free TCP port on 127.0.0.1 right now (the kernel picks it; we release it at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr && typeof addr === 'object') resolve(addr.port);
        else reject(new Error('no port from the kernel'));
      });
    });
  });
}

/**
 * Starts a long-running server in its own process group, its output appended to logFile, and
 * detached from us so that `make stack-up` can leave it running. Returns its pid (= pgid).
 */
export function spawnServer(
  cmd: string,
  args: string[],
  logFile: string,
  opts: SpawnOptions = {},
): number {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', fd, fd] });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    // An exec failure (missing binary) arrives as an 'error' event; the readiness wait reports it.
    child.on('error', () => undefined);
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops a process group: SIGTERM (or the given signal), then SIGKILL after graceMs. */
export async function stopGroup(
  pid: number,
  graceMs = 5000,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  const kill = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  kill(signal);
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) kill('SIGKILL');
  while (alive(pid)) {
    await sleep(20);
    // A zombie (our own unreaped child) still answers kill(0); the group is gone once KILL landed.
    if (isZombie(pid)) break;
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Polls check() until it resolves true, or throws after timeoutMs with a description. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  pid?: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (pid !== undefined && !alive(pid))
      throw new Error(`${what}: process ${pid} exited before it was ready`);
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(
    `${what}: not ready after ${timeoutMs} ms${last ? ` (last error: ${String(last)})` : ''}`,
  );
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(out)
        : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${out.slice(-2000)}`)),
    );
  });
}

export function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
