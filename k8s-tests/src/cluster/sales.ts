import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import type { Server } from 'node:net';
import type { KubeConfig } from '@kubernetes/client-node';
import { forwardPort, type RawAnswer } from './kube.js';
import { K6_DIR } from './options.js';
import type { Thresholds } from './samples.js';
import { podsOf, type Target } from './target.js';

/** A load shape of k8s-tests/k6/profiles.json (the fields a scenario uses). */
export interface Shape {
  users: number;
  tickets: number;
  waves?: number;
  durationS?: number;
  maxDurationS?: number;
  rampS?: number;
  holdS?: number;
}

/** The shape and thresholds of a scenario, read from the file the k6 script reads too. */
export function loadProfile(
  scenario: string,
  profile: string,
): { shape: Shape; thresholds: Thresholds } {
  const all = JSON.parse(readFileSync(join(K6_DIR, 'profiles.json'), 'utf8')) as Record<
    string,
    Record<string, unknown>
  >;
  const sc = all[scenario];
  const shape = sc?.[profile] as Shape | undefined;
  if (!sc || !shape) throw new Error(`no profile ${profile} for scenario ${scenario}`);
  return { shape, thresholds: sc.thresholds as Thresholds };
}

/** How long the load of a shape lasts at most, in seconds (for the Job's deadline). */
export function loadSeconds(s: Shape): number {
  return s.maxDurationS ?? s.durationS ?? (s.rampS ?? 0) + (s.holdS ?? 0);
}

/** A sale of the run: its id and when it opens (epoch ms). */
export interface Sale {
  id: string;
  opensAt: number;
  capacity: number;
}

/**
 * Creates the run's sales through the Service, named as the k6 script looks for them
 * (`k6 <scenario> <runId> <wave>`): one sale open at `startAt`, or `waves` sales opening one after
 * another over the load (a sale sells out within seconds, so faults meet several openings).
 */
export async function createSales(
  client: ServiceClient,
  scenario: string,
  runId: string,
  shape: Shape,
  startAt: number,
): Promise<Sale[]> {
  const waves = shape.waves ?? 1;
  const durationMs = (shape.durationS ?? 0) * 1000;
  const per = Math.floor(shape.tickets / waves);
  const sales: Sale[] = [];
  for (let k = 0; k < waves; k++) {
    const capacity = k === waves - 1 ? shape.tickets - per * k : per;
    const opensAt = waves === 1 ? startAt : startAt + 1000 + (k * (durationMs - 1000)) / waves;
    const body = {
      name: `k6 ${scenario} ${runId} ${k + 1}`,
      capacity,
      saleStartsAt: new Date(opensAt).toISOString(),
    };
    // A 503 is the service saying a dependency is not there yet (e.g. just after an install):
    // asked again for up to 30 s; any other refusal is final.
    let a = await client.call('POST', '/v1/events', body);
    for (let i = 0; a.status === 503 && i < 15; i++) {
      await new Promise((r) => setTimeout(r, 2000));
      a = await client.call('POST', '/v1/events', body);
    }
    if (a.status !== 201 || typeof a.json.id !== 'string')
      throw new Error(`creating sale ${k + 1} answered ${a.status} ${a.text.slice(0, 300)}`);
    sales.push({ id: a.json.id, opensAt, capacity });
  }
  return sales;
}

/**
 * Calls the reservation API from this machine through a port-forward to a Ready reservation pod
 * (the API server's Service proxy drops the Authorization header the admin calls need). When the
 * pod goes away (chaos), the next call picks another one.
 */
export class ServiceClient {
  private fwd?: { port: number; server: Server; pod: string };

  constructor(
    private readonly kc: KubeConfig,
    private readonly target: Target,
  ) {}

  private async forward(): Promise<{ port: number; server: Server; pod: string }> {
    if (this.fwd) return this.fwd;
    const pods = await podsOf(this.kc, this.target.namespace, 'reservation');
    const ready = pods.filter((p) =>
      p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
    );
    const pod = ready[Math.floor(Math.random() * ready.length)]?.metadata?.name;
    if (!pod) throw new Error(`no Ready reservation pod in ${this.target.namespace}`);
    const f = await forwardPort(this.kc, this.target.namespace, pod, this.target.podPort);
    this.fwd = { ...f, pod };
    return this.fwd;
  }

  private drop(): void {
    this.fwd?.server.close();
    this.fwd = undefined;
  }

  /** One call as the admin; retried on another pod when the connection fails (nothing was sent). */
  async call(method: string, path: string, body?: unknown): Promise<RawAnswer> {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      const f = await this.forward();
      try {
        return await plainRequest(f.port, method, path, body, {
          authorization: `Bearer ${this.target.adminToken}`,
        });
      } catch (err) {
        lastErr = err;
        this.drop();
        await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
      }
    }
    throw lastErr;
  }

  close(): void {
    this.drop();
  }
}

function plainRequest(
  port: number,
  method: string,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<RawAnswer> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
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
          const text = Buffer.concat(chunks).toString();
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(text || '{}') as Record<string, unknown>;
          } catch {
            /* judged by status */
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(payload);
  });
}
