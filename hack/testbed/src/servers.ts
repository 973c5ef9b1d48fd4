import { chmodSync, chownSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { run } from './process.js';
import { goTool, kubeBin, postgresBinDir, repoRoot } from './tools.js';

export const SERVER_NAMES = [
  'postgres',
  'redis',
  'nats',
  'prometheus',
  'etcd',
  'kube-apiserver',
  'kube-controller-manager',
  'kube-scheduler',
] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

/** What a server definition sees: its own folder, its ports, and the stack's other servers. */
export interface ServerContext {
  root: string;
  dir: string;
  ports: Record<string, number>;
  portsOf(name: ServerName): Record<string, number>;
}

export interface Launch {
  cmd: string;
  args: string[];
  uid?: number;
  gid?: number;
}

export interface ServerSpec {
  name: ServerName;
  /** Servers that must be ready before this one starts. */
  after: ServerName[];
  ports: string[];
  /** One-time set-up of the server's folder (initdb, config files). Runs again after a wipe. */
  prepare?(ctx: ServerContext): Promise<void>;
  launch(ctx: ServerContext): Launch;
  ready(ctx: ServerContext): Promise<boolean>;
  /** Environment variables that tell tests where the server is. */
  env(ctx: ServerContext): Record<string, string>;
  /** Folders that hold the server's data, removed by a restart with `wipe`. */
  dataDirs(ctx: ServerContext): string[];
}

const LOOPBACK = '127.0.0.1';

async function httpOk(url: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/** GET over TLS with the test bed's admin client certificate (kube components). */
function httpsOk(url: string, pki?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        timeout: 2000,
        rejectUnauthorized: false,
        ...(pki
          ? {
              cert: readFileSync(join(pki, 'admin.crt')),
              key: readFileSync(join(pki, 'admin.key')),
            }
          : {}),
      },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The uid/gid of Debian's `postgres` user: PostgreSQL refuses to run as root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line)
    throw new Error('running as root needs the `postgres` user (apt-get install postgresql)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

const pkiDir = (ctx: ServerContext) => join(ctx.root, 'pki');

const postgres: ServerSpec = {
  name: 'postgres',
  after: [],
  ports: ['port'],
  dataDirs: (ctx) => [join(ctx.dir, 'data')],
  async prepare(ctx) {
    const user = postgresUser();
    const data = join(ctx.dir, 'data');
    const sock = join(ctx.dir, 'sock');
    mkdirSync(data, { recursive: true });
    mkdirSync(sock, { recursive: true });
    if (user) for (const d of [ctx.dir, data, sock]) chownSync(d, user.uid, user.gid);
    await run(
      join(postgresBinDir(), 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
      user ? { uid: user.uid, gid: user.gid } : {},
    );
  },
  launch(ctx) {
    const user = postgresUser();
    return {
      cmd: join(postgresBinDir(), 'postgres'),
      // fsync off is safe for our faults (process kills, not power loss); synchronous_commit
      // stays on so a committed transaction survives a kill -9 of the server.
      args: [
        '-D',
        join(ctx.dir, 'data'),
        '-p',
        String(ctx.ports.port),
        '-h',
        LOOPBACK,
        '-k',
        join(ctx.dir, 'sock'),
        '-c',
        'fsync=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=300',
        '-c',
        'shared_buffers=128MB',
      ],
      ...(user ?? {}),
    };
  },
  ready: async (ctx) => {
    await run(join(postgresBinDir(), 'pg_isready'), [
      '-q',
      '-h',
      LOOPBACK,
      '-p',
      String(ctx.ports.port),
    ]);
    return true;
  },
  env: (ctx) => ({
    TESTBED_POSTGRES_URL: `postgres://postgres@${LOOPBACK}:${ctx.ports.port}/postgres`,
  }),
};

const redis: ServerSpec = {
  name: 'redis',
  after: [],
  ports: ['port'],
  dataDirs: () => [],
  launch: (ctx) => ({
    cmd: 'redis-server',
    // No persistence: a restart loses every key, which is the fault the service must survive.
    args: [
      '--port',
      String(ctx.ports.port),
      '--bind',
      LOOPBACK,
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      ctx.dir,
      '--maxclients',
      '4000',
      '--protected-mode',
      'no',
    ],
  }),
  ready: async (ctx) =>
    (await run('redis-cli', ['-p', String(ctx.ports.port), 'ping'])).includes('PONG'),
  env: (ctx) => ({ TESTBED_REDIS_URL: `redis://${LOOPBACK}:${ctx.ports.port}` }),
};

const nats: ServerSpec = {
  name: 'nats',
  after: [],
  ports: ['port', 'monitor'],
  dataDirs: (ctx) => [join(ctx.dir, 'jetstream')],
  launch: (ctx) => ({
    cmd: goTool('nats-server'),
    args: [
      '-js',
      '-a',
      LOOPBACK,
      '-p',
      String(ctx.ports.port),
      '-m',
      String(ctx.ports.monitor),
      '-sd',
      join(ctx.dir, 'jetstream'),
      '-n',
      'testbed',
    ],
  }),
  ready: (ctx) => httpOk(`http://${LOOPBACK}:${ctx.ports.monitor}/healthz?js-enabled-only=true`),
  env: (ctx) => ({
    TESTBED_NATS_URL: `nats://${LOOPBACK}:${ctx.ports.port}`,
    TESTBED_NATS_MONITOR_URL: `http://${LOOPBACK}:${ctx.ports.monitor}`,
  }),
};

const prometheus: ServerSpec = {
  name: 'prometheus',
  after: [],
  ports: ['port'],
  dataDirs: (ctx) => [join(ctx.dir, 'data')],
  async prepare(ctx) {
    mkdirSync(join(ctx.dir, 'targets'), { recursive: true });
    // Tests register what Prometheus scrapes by dropping file_sd JSON files into targets/.
    writeFileSync(
      join(ctx.dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        'scrape_configs:',
        '  - job_name: prometheus',
        `    static_configs: [{ targets: ['${LOOPBACK}:${ctx.ports.port}'] }]`,
        '  - job_name: testbed',
        `    file_sd_configs: [{ files: ['${join(ctx.dir, 'targets')}/*.json'], refresh_interval: 1s }]`,
        '',
      ].join('\n'),
    );
  },
  launch: (ctx) => ({
    cmd: 'prometheus',
    args: [
      `--config.file=${join(ctx.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(ctx.dir, 'data')}`,
      `--web.listen-address=${LOOPBACK}:${ctx.ports.port}`,
      '--web.enable-lifecycle',
    ],
  }),
  ready: (ctx) => httpOk(`http://${LOOPBACK}:${ctx.ports.port}/-/ready`),
  env: (ctx) => ({
    TESTBED_PROMETHEUS_URL: `http://${LOOPBACK}:${ctx.ports.port}`,
    TESTBED_PROMETHEUS_TARGETS_DIR: join(ctx.dir, 'targets'),
  }),
};

const etcd: ServerSpec = {
  name: 'etcd',
  after: [],
  ports: ['client', 'peer'],
  dataDirs: (ctx) => [join(ctx.dir, 'data')],
  launch: (ctx) => {
    const client = `http://${LOOPBACK}:${ctx.ports.client}`;
    const peer = `http://${LOOPBACK}:${ctx.ports.peer}`;
    return {
      cmd: 'etcd',
      args: [
        '--name',
        'testbed',
        '--data-dir',
        join(ctx.dir, 'data'),
        '--listen-client-urls',
        client,
        '--advertise-client-urls',
        client,
        '--listen-peer-urls',
        peer,
        '--initial-advertise-peer-urls',
        peer,
        '--initial-cluster',
        `testbed=${peer}`,
        '--log-level',
        'warn',
      ],
    };
  },
  ready: (ctx) => httpOk(`http://${LOOPBACK}:${ctx.ports.client}/health`),
  env: (ctx) => ({ TESTBED_ETCD_URL: `http://${LOOPBACK}:${ctx.ports.client}` }),
};

const apiserver: ServerSpec = {
  name: 'kube-apiserver',
  after: ['etcd'],
  ports: ['port'],
  dataDirs: () => [],
  async prepare(ctx) {
    await run('bash', [
      join(repoRoot, 'hack/testbed/pki.sh'),
      pkiDir(ctx),
      `https://${LOOPBACK}:${ctx.ports.port}`,
    ]);
    chmodSync(pkiDir(ctx), 0o700);
  },
  launch: (ctx) => {
    const pki = pkiDir(ctx);
    return {
      cmd: kubeBin('kube-apiserver'),
      args: [
        `--etcd-servers=http://${LOOPBACK}:${ctx.portsOf('etcd').client}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${ctx.ports.port}`,
        `--cert-dir=${join(ctx.dir, 'certs')}`,
        `--tls-cert-file=${pki}/apiserver.crt`,
        `--tls-private-key-file=${pki}/apiserver.key`,
        `--client-ca-file=${pki}/ca.crt`,
        `--kubelet-client-certificate=${pki}/apiserver-kubelet-client.crt`,
        `--kubelet-client-key=${pki}/apiserver-kubelet-client.key`,
        `--service-account-key-file=${pki}/sa.pub`,
        `--service-account-signing-key-file=${pki}/sa.key`,
        '--service-account-issuer=https://kubernetes.default.svc',
        // Addresses the apiserver hands out to Services; nothing is routed to them here.
        '--service-cluster-ip-range=10.96.0.0/16',
        // Loopback cannot be published as the `kubernetes` Service endpoint, and no pod needs it.
        '--endpoint-reconciler-type=none',
        '--authorization-mode=Node,RBAC',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ],
    };
  },
  ready: (ctx) => httpsOk(`https://${LOOPBACK}:${ctx.ports.port}/readyz`, pkiDir(ctx)),
  env: (ctx) => ({ TESTBED_KUBECONFIG: join(pkiDir(ctx), 'admin.kubeconfig') }),
};

const controllerManager: ServerSpec = {
  name: 'kube-controller-manager',
  after: ['kube-apiserver'],
  ports: ['port'],
  dataDirs: () => [],
  launch: (ctx) => {
    const pki = pkiDir(ctx);
    return {
      cmd: kubeBin('kube-controller-manager'),
      args: [
        `--kubeconfig=${pki}/controller-manager.kubeconfig`,
        `--authentication-kubeconfig=${pki}/controller-manager.kubeconfig`,
        `--authorization-kubeconfig=${pki}/controller-manager.kubeconfig`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${ctx.ports.port}`,
        `--cert-dir=${join(ctx.dir, 'certs')}`,
        `--service-account-private-key-file=${pki}/sa.key`,
        `--root-ca-file=${pki}/ca.crt`,
        `--cluster-signing-cert-file=${pki}/ca.crt`,
        `--cluster-signing-key-file=${pki}/ca.key`,
        '--use-service-account-credentials=true',
        '--leader-elect=false',
        '--v=1',
      ],
    };
  },
  ready: (ctx) => httpsOk(`https://${LOOPBACK}:${ctx.ports.port}/healthz`),
  env: () => ({}),
};

const scheduler: ServerSpec = {
  name: 'kube-scheduler',
  after: ['kube-apiserver'],
  ports: ['port'],
  dataDirs: () => [],
  launch: (ctx) => {
    const kc = `${pkiDir(ctx)}/scheduler.kubeconfig`;
    return {
      cmd: kubeBin('kube-scheduler'),
      args: [
        `--kubeconfig=${kc}`,
        `--authentication-kubeconfig=${kc}`,
        `--authorization-kubeconfig=${kc}`,
        `--bind-address=${LOOPBACK}`,
        `--secure-port=${ctx.ports.port}`,
        `--cert-dir=${join(ctx.dir, 'certs')}`,
        '--leader-elect=false',
        '--v=1',
      ],
    };
  },
  ready: (ctx) => httpsOk(`https://${LOOPBACK}:${ctx.ports.port}/healthz`),
  env: () => ({}),
};

export const SERVERS: Record<ServerName, ServerSpec> = {
  postgres,
  redis,
  nats,
  prometheus,
  etcd,
  'kube-apiserver': apiserver,
  'kube-controller-manager': controllerManager,
  'kube-scheduler': scheduler,
};

/** Wipes a server's data folders (for "restart with data lost" faults). */
export function wipeData(spec: ServerSpec, ctx: ServerContext): void {
  for (const d of spec.dataDirs(ctx)) rmSync(d, { recursive: true, force: true });
}
