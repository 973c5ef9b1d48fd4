import { Agent, request } from 'node:http';

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A keep-alive HTTP client that spreads requests over the service processes like a load balancer
 * that retries a refused connection on another backend (the request never reached a server, so
 * retrying cannot duplicate anything).
 */
export class Client {
  private readonly agent: Agent;

  constructor(
    private readonly ports: number[],
    maxSockets: number,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, timeout: 15_000 });
  }

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    let lastErr: unknown;
    const start = Math.floor(Math.random() * this.ports.length);
    for (let i = 0; i < this.ports.length * 2; i++) {
      const port = this.ports[(start + i) % this.ports.length] as number;
      try {
        return await this.once(port, method, path, body, headers);
      } catch (err) {
        lastErr = err;
        if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw err;
      }
    }
    throw lastErr;
  }

  private once(
    port: number,
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Answer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method,
          path,
          agent: this.agent,
          timeout: 15_000,
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
              parsed = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<
                string,
                unknown
              >;
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

  close(): void {
    this.agent.destroy();
  }
}
