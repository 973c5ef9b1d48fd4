import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { KubeConfig, PortForward } from '@kubernetes/client-node';

/** The cluster the runners talk to, from KUBECONFIG (the host cluster's kubeconfig by default). */
export function loadKube(kubeconfig: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

/** An answer of the API server (or of a pod or Service behind its proxy). */
export interface RawAnswer {
  status: number;
  text: string;
  json: Record<string, unknown>;
}

/**
 * A request to the API server with the kubeconfig's credentials. The runners reach pods and
 * Services through the API server's proxy (`/api/v1/namespaces/N/pods/P:port/proxy/...`), which
 * works on any cluster (kind, the host cluster, a managed one) without a route to pod addresses.
 */
export async function apiRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  timeoutMs = 15_000,
  headers: Record<string, string> = {},
): Promise<RawAnswer> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const url = new URL(path, cluster.server);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const opts: RequestOptions = {
    method,
    hostname: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    headers: {
      accept: 'application/json',
      ...headers,
      ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
    },
    timeout: timeoutMs,
  };
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text || '{}') as Record<string, unknown>;
        } catch {
          /* not JSON: the caller judges by status and text */
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** The API server path of a Service's proxy (`svc` may be "name" or "name:port"). */
export const serviceProxy = (ns: string, svc: string, path: string) =>
  `/api/v1/namespaces/${ns}/services/${svc}/proxy${path}`;

/** The API server path of a pod's proxy on a port. */
export const podProxy = (ns: string, pod: string, port: number, path: string) =>
  `/api/v1/namespaces/${ns}/pods/${pod}:${port}/proxy${path}`;

/**
 * A local TCP port forwarded to a pod's port (what `kubectl port-forward` does), for clients that
 * need a socket (the Postgres checker). Close the returned server when done.
 */
export async function forwardPort(
  kc: KubeConfig,
  ns: string,
  pod: string,
  port: number,
): Promise<{ port: number; server: Server }> {
  const pf = new PortForward(kc);
  const server = createServer((socket) => {
    pf.portForward(ns, pod, [port], socket, null, socket).catch((err: unknown) =>
      socket.destroy(err instanceof Error ? err : new Error(String(err))),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server };
}

/** The HTTP status of a client-node ApiException, if the error is one. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}
