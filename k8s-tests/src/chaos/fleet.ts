import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, repoRoot, waitUntil } from '@flashsale/testbed';

/** A reservation service process the chaos run can kill and bring back on the same port. */
interface Member {
  index: number;
  port: number;
  child?: ChildProcess;
  restarts: number;
}

const serviceDir = join(repoRoot, 'services/reservation');

/** N reservation service processes (role both) on fixed loopback ports. */
export class Fleet {
  readonly members: Member[] = [];

  constructor(
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    /** Node flags before the script (e.g. --cpu-prof for the bench's profile). */
    private readonly nodeArgs: string[] = [],
  ) {}

  async start(count: number): Promise<void> {
    for (let i = 0; i < count; i++)
      this.members.push({ index: i, port: await freePort(), restarts: 0 });
    await Promise.all(this.members.map((m) => this.launch(m)));
  }

  get ports(): number[] {
    return this.members.map((m) => m.port);
  }

  private async launch(m: Member): Promise<void> {
    const fd = openSync(join(this.logDir, `service-${m.index}.log`), 'a');
    try {
      m.child = spawn(process.execPath, [...this.nodeArgs, join(serviceDir, 'dist/main.js')], {
        env: { ...process.env, ...this.env, PORT: String(m.port) },
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const child = m.child;
    // Generous: a Node start on a 2-core machine that is also running the load can take tens of
    // seconds; a slow start is not what this run judges.
    await waitUntil(`service ${m.index}`, 90_000, async () => {
      if (child.exitCode !== null) throw new Error(`service ${m.index} exited ${child.exitCode}`);
      const res = await fetch(`http://127.0.0.1:${m.port}/healthz`, {
        signal: AbortSignal.timeout(1000),
      });
      return res.ok;
    });
  }

  /** kill -9 one member, wait, and start it again; returns its index. */
  async crashOne(restartDelayMs: number): Promise<number> {
    const m = this.members[Math.floor(Math.random() * this.members.length)];
    if (!m?.child) return -1;
    m.child.kill('SIGKILL');
    await new Promise((r) => m.child?.once('exit', r));
    await sleep(restartDelayMs);
    m.restarts++;
    await this.launch(m);
    return m.index;
  }

  /** Waits until every member says it is ready (dependencies reachable, consumer bound). */
  async ready(timeoutMs: number): Promise<void> {
    await Promise.all(
      this.members.map((m) =>
        waitUntil(`service ${m.index} ready`, timeoutMs, async () => {
          const res = await fetch(`http://127.0.0.1:${m.port}/readyz`, {
            signal: AbortSignal.timeout(2000),
          });
          return res.ok;
        }),
      ),
    );
  }

  /** SIGTERM every member (a graceful stop), SIGKILL after the grace period. */
  async stop(graceMs = 10_000): Promise<void> {
    await Promise.all(
      this.members.map(async (m) => {
        const child = m.child;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
