// The service as a process of its own, as Kubernetes runs it (to kill it or stop it with a signal).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';
import type { TestEnv } from './env.js';

/** A service process: its URL, pid, exit and everything it printed. */
export interface Child {
  url: string;
  pid: number;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  output: () => string;
}

/** Runs the service as its own process (node + tsx on src/main.ts), as Kubernetes would run it. */
export async function spawnService(t: TestEnv, overrides: Partial<Config> = {}): Promise<Child> {
  const cfg = t.config({ LOG_LEVEL: 'info', ...overrides });
  const childEnv: Record<string, string> = { PATH: process.env.PATH ?? '' };
  for (const [k, v] of Object.entries(cfg)) childEnv[k] = String(v);
  const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
  const proc = spawn(process.execPath, ['--import', 'tsx', main], {
    env: childEnv,
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((r) =>
    proc.on('exit', (code, sig) => r(code ?? sig ?? -1)),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start:\n${out}`)), 60_000);
    const onData = () => {
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    void exited.then((c) => reject(new Error(`service exited (${c}):\n${out}`)));
  });
  return { url: `http://127.0.0.1:${port}`, pid: proc.pid!, proc, exited, output: () => out };
}
