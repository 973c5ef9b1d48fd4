import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alive, freePort, spawnServer, stopGroup, tail, waitUntil } from './process.js';
import { SERVERS, SERVER_NAMES, type ServerContext, type ServerName, wipeData } from './servers.js';
import { repoRoot } from './tools.js';

/** What is written to <root>/stack.json, so another process (stack-down, a test) can act on it. */
export interface StackState {
  root: string;
  servers: Partial<Record<ServerName, { pid: number; ports: Record<string, number> }>>;
  env: Record<string, string>;
}

export interface StartOptions {
  /** Which servers to run (their dependencies are added). Default: all. */
  servers?: readonly ServerName[];
  /** Folder for the stack's data; default a fresh temp folder. Removed by stop(). */
  root?: string;
  /** Kill everything when this pid exits (a safety net for interrupted test runs). */
  reapWhenGone?: number;
  /** Progress lines; default stderr. */
  log?: (line: string) => void;
  /** How long each server may take to become ready. */
  readyTimeoutMs?: number;
}

const defaultLog = (line: string) => process.stderr.write(`[testbed] ${line}\n`);

function withDeps(names: readonly ServerName[]): ServerName[] {
  const out = new Set<ServerName>();
  const add = (n: ServerName) => {
    for (const d of SERVERS[n].after) add(d);
    out.add(n);
  };
  names.forEach(add);
  return SERVER_NAMES.filter((n) => out.has(n));
}

/**
 * A set of real servers on loopback ports (Postgres, Redis, NATS JetStream, Prometheus, etcd and a
 * Kubernetes control plane). Each runs in its own process group with its log in <root>/<name>.log.
 */
export class Stack {
  private constructor(
    readonly root: string,
    private readonly log: (line: string) => void,
    private readonly readyTimeoutMs: number,
  ) {}

  get stateFile(): string {
    return join(this.root, 'stack.json');
  }

  /** Re-reads the state: another process may have restarted a server since. */
  state(): StackState {
    return JSON.parse(readFileSync(this.stateFile, 'utf8')) as StackState;
  }

  get env(): Record<string, string> {
    return this.state().env;
  }

  private save(state: StackState): void {
    writeFileSync(this.stateFile, JSON.stringify(state, null, 2));
  }

  /** Starts the servers in dependency order (independent ones at once) and waits until each is ready. */
  static async start(opts: StartOptions = {}): Promise<Stack> {
    const log = opts.log ?? defaultLog;
    const root = opts.root ?? mkdtempSync(join(tmpdir(), 'flashsale-testbed-'));
    mkdirSync(root, { recursive: true });
    // Servers that drop privileges (postgres) must be able to reach their folder.
    chmodSync(root, 0o755);
    const stack = new Stack(root, log, opts.readyTimeoutMs ?? 60_000);
    stack.save({ root, servers: {}, env: { TESTBED_ROOT: root, TESTBED_STATE: stack.stateFile } });
    if (opts.reapWhenGone !== undefined) stack.startReaper(opts.reapWhenGone);
    const names = withDeps(opts.servers ?? SERVER_NAMES);
    const t0 = Date.now();
    try {
      const started = new Map<ServerName, Promise<void>>();
      const startOne = (n: ServerName): Promise<void> => {
        let p = started.get(n);
        if (!p) {
          p = Promise.all(SERVERS[n].after.filter((d) => names.includes(d)).map(startOne)).then(
            () => stack.startServer(n, { fresh: true }),
          );
          started.set(n, p);
        }
        return p;
      };
      await Promise.all(names.map(startOne));
    } catch (err) {
      await stack.stop();
      throw err;
    }
    log(
      `${names.length} servers ready in ${((Date.now() - t0) / 1000).toFixed(1)}s (root ${root})`,
    );
    return stack;
  }

  /** Attaches to a stack another process started, from its stack.json. */
  static attach(stateFile: string, log: (line: string) => void = defaultLog): Stack {
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
    return new Stack(state.root, log, 60_000);
  }

  private context(name: ServerName, ports: Record<string, number>): ServerContext {
    return {
      root: this.root,
      dir: join(this.root, name),
      ports,
      portsOf: (other) => {
        const p = this.state().servers[other]?.ports;
        if (!p) throw new Error(`${name} needs ${other}, which is not running`);
        return p;
      },
    };
  }

  /**
   * Starts one server. With fresh, it gets new ports and a prepared folder; otherwise it comes back
   * on the ports it had (clients reconnect to the same URL), optionally with its data wiped.
   */
  async startServer(
    name: ServerName,
    opts: { fresh?: boolean; wipe?: boolean } = {},
  ): Promise<void> {
    const spec = SERVERS[name];
    const t0 = Date.now();
    for (let attempt = 1; ; attempt++) {
      const previous = this.state().servers[name];
      const ports: Record<string, number> = {};
      if (opts.fresh || !previous) for (const p of spec.ports) ports[p] = await freePort();
      else Object.assign(ports, previous.ports);
      const ctx = this.context(name, ports);
      mkdirSync(ctx.dir, { recursive: true });
      if (opts.wipe) wipeData(spec, ctx);
      if (opts.fresh || (opts.wipe && spec.dataDirs(ctx).length > 0)) await spec.prepare?.(ctx);
      const launch = spec.launch(ctx);
      const logFile = join(this.root, `${name}.log`);
      const pid = spawnServer(launch.cmd, launch.args, logFile, {
        ...(launch.uid !== undefined ? { uid: launch.uid, gid: launch.gid } : {}),
        cwd: ctx.dir,
      });
      const state = this.state();
      state.servers[name] = { pid, ports };
      Object.assign(state.env, spec.env(ctx));
      this.save(state);
      try {
        await waitUntil(name, this.readyTimeoutMs, () => spec.ready(ctx), pid);
        this.log(
          `${name.padEnd(24)} ready on ${Object.values(ports).join(',')} in ${Date.now() - t0} ms`,
        );
        return;
      } catch (err) {
        await stopGroup(pid, 1000);
        // A port taken between freePort() and bind is the one race we retry, with new ports.
        const portClash = /address already in use|bind: /i.test(tail(logFile, 30));
        if (opts.fresh && portClash && attempt < 3) continue;
        throw new Error(`${(err as Error).message}\n--- ${logFile} ---\n${tail(logFile)}`, {
          cause: err,
        });
      }
    }
  }

  /** Stops one server: SIGKILL by default (a crash), or SIGTERM for a clean stop. */
  async kill(name: ServerName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const s = this.state().servers[name];
    if (s) await stopGroup(s.pid, 10_000, signal);
  }

  /** Kills and restarts a server on the same ports; with wipe, its data is lost. */
  async restart(
    name: ServerName,
    opts: { wipe?: boolean; signal?: NodeJS.Signals } = {},
  ): Promise<void> {
    await this.kill(name, opts.signal);
    await this.startServer(name, { wipe: opts.wipe ?? false });
  }

  /** Stops every server (SIGTERM, then SIGKILL) and removes the stack's folder. */
  async stop(): Promise<void> {
    let state: StackState | undefined;
    try {
      state = this.state();
    } catch {
      /* never saved */
    }
    const servers = Object.entries(state?.servers ?? {}).reverse();
    await Promise.all(servers.map(([, s]) => stopGroup(s.pid, 10_000)));
    rmSync(this.root, { recursive: true, force: true });
  }

  /** A detached watcher that kills the stack's process groups and removes its folder once `owner` is gone. */
  private startReaper(owner: number): void {
    const child = spawn(
      'bash',
      [join(repoRoot, 'hack/testbed/reaper.sh'), String(owner), this.stateFile],
      {
        detached: true,
        stdio: 'ignore',
      },
    );
    child.unref();
  }

  /** True if every server in the state file still runs. */
  static isUp(stateFile: string): boolean {
    if (!existsSync(stateFile)) return false;
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as StackState;
    const servers = Object.values(state.servers);
    return servers.length > 0 && servers.every((s) => alive(s.pid));
  }
}
