// kubectl port-forward to a Service, re-established whenever it dies: `kubectl port-forward
// svc/x` binds to one pod and exits with it, so a replaced pod would otherwise end the forward.
import { spawn, type ChildProcess } from 'node:child_process';

export interface PortForwardOptions {
  kubectl: string;
  kubeconfig: string;
  namespace: string;
  service: string;
  remotePort: number;
  /** Local port; 0 (default) lets kubectl pick one, kept across restarts. */
  localPort?: number;
  log: (line: string) => void;
}

/** A self-healing port-forward on 127.0.0.1; `url` is stable across restarts (same local port). */
export class PortForward {
  private proc: ChildProcess | undefined;
  private stopped = false;
  private localPort = 0;

  constructor(private readonly o: PortForwardOptions) {
    this.localPort = o.localPort ?? 0;
  }

  get url(): string {
    return `http://127.0.0.1:${this.localPort}`;
  }

  /** Starts the forward and resolves once kubectl says it is forwarding. */
  start(): Promise<string> {
    return new Promise((resolve, reject) => {
      const args = [
        '--kubeconfig',
        this.o.kubeconfig,
        '-n',
        this.o.namespace,
        'port-forward',
        '--address',
        '127.0.0.1',
        `svc/${this.o.service}`,
        `${this.localPort || ''}:${this.o.remotePort}`,
      ];
      const proc = spawn(this.o.kubectl, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      this.proc = proc;
      let out = '';
      let ready = false;
      const onData = (d: Buffer) => {
        out += d.toString();
        const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
        if (m && !ready) {
          ready = true;
          this.localPort = Number(m[1]);
          resolve(this.url);
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.on('exit', (code) => {
        if (!ready)
          reject(
            new Error(`port-forward to svc/${this.o.service} failed (${code}): ${out.trim()}`),
          );
        if (this.stopped) return;
        this.o.log(`port-forward to svc/${this.o.service} ended (${code}); re-establishing`);
        setTimeout(() => {
          if (!this.stopped) this.start().catch((err: unknown) => this.o.log(String(err)));
        }, 1000);
      });
    });
  }

  stop(): void {
    this.stopped = true;
    this.proc?.kill('SIGTERM');
  }
}
