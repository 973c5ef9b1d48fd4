import { Agent, request } from 'node:http';

/** An HTTP answer with its JSON body (`{}` when the body is not JSON). */
export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A keep-alive HTTP client that spreads requests over several service instances in turn, like a
 * load balancer that retries a refused connection on another backend (the request never reached a
 * server, so retrying cannot duplicate anything). Any other failure is thrown to the caller.
 */
export class Client {
  private readonly agent: Agent;
  private readonly targets: URL[];
  private turn = 0;

  /** `baseUrls`: `http://host:port` of each instance; `maxSockets`: connections per instance. */
  constructor(
    baseUrls: string[],
    maxSockets: number,
    private readonly timeoutMs = 15_000,
  ) {
    if (baseUrls.length === 0) throw new Error('Client: no service URL given');
    this.targets = baseUrls.map((u) => new URL(u));
    this.agent = new Agent({ keepAlive: true, maxSockets, timeout: timeoutMs });
  }

  /** Sends one request with a JSON body (if any) to the next instance; retries refused connections. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    let lastErr: unknown;
    const start = this.turn++;
    for (let i = 0; i < this.targets.length * 2; i++) {
      const target = this.targets[(start + i) % this.targets.length] as URL;
      try {
        return await this.once(target, method, path, body, headers);
      } catch (err) {
        lastErr = err;
        if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw err;
      }
    }
    throw lastErr;
  }

  private once(
    target: URL,
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Answer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: target.hostname,
          port: target.port,
          method,
          path,
          agent: this.agent,
          timeout: this.timeoutMs,
          headers: {
            ...headers,
            ...(payload
              ? { 'content-type': 'application/json', 'content-length': payload.length }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            let parsed: Record<string, unknown> = {};
            try {
              const value: unknown = JSON.parse(Buffer.concat(chunks).toString() || '{}');
              if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
            } catch {
              /* a non-JSON answer is judged by its status alone */
            }
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}
