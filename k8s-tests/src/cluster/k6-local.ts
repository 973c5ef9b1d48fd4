// make k6-local SCENARIO=burst|ramp|soak|chaos PROFILE=short|full: the same k6 scripts as the
// in-cluster runs, against one reservation service process on 127.0.0.1 with real Postgres, Redis
// and NATS from the test bed. k6 judges its own thresholds here (one process sees every sample);
// its exit code is this command's.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { Stack, goTool, repoRoot, run } from '@flashsale/testbed';
import { Fleet } from '../chaos/fleet.js';
import { K6_DIR } from './options.js';

const t0 = Date.now();
const log = (msg: string) =>
  process.stderr.write(`[k6-local ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

async function main(): Promise<number> {
  const scenario = process.env.SCENARIO || 'burst';
  const profile = process.env.PROFILE || 'short';
  const k6 = goTool('k6');
  const adminToken = `k6-${randomUUID()}`;
  const stack = await Stack.start({
    servers: ['postgres', 'redis', 'nats'],
    reapWhenGone: process.pid,
    log: (l) => log(`testbed: ${l}`),
  });
  const env = {
    DATABASE_URL: stack.env.TESTBED_POSTGRES_URL as string,
    REDIS_URL: stack.env.TESTBED_REDIS_URL as string,
    NATS_URL: stack.env.TESTBED_NATS_URL as string,
    ADMIN_TOKEN: adminToken,
    ROLE: 'both',
    LOG_LEVEL: 'warn',
    // k6 sends everything from one address: the per-IP limit would throttle the whole run.
    RATE_LIMIT_IP_PER_SEC: '0',
  };
  const fleet = new Fleet(env, stack.root);
  try {
    log('migrating the database');
    await run(process.execPath, [join(repoRoot, 'services/reservation/dist/migrate.js')], {
      env: { ...process.env, ...env },
    });
    await fleet.start(1);
    await fleet.ready(60_000);
    const baseUrl = `http://127.0.0.1:${fleet.ports[0]}`;
    log(`service ready on ${baseUrl}; k6 run ${scenario} (${profile})`);
    const child = spawn(
      k6,
      [
        'run',
        '--no-color',
        '-e',
        `SCENARIO=${scenario}`,
        '-e',
        `PROFILE=${profile}`,
        '-e',
        `BASE_URL=${baseUrl}`,
        '-e',
        `LOG_ANSWERS=0`,
        join(K6_DIR, 'main.js'),
      ],
      // The token reaches k6 through its environment, not its command line.
      { stdio: 'inherit', env: { ...process.env, ADMIN_TOKEN: adminToken } },
    );
    const stop = () => child.kill('SIGINT');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
    log(`k6 exited ${code}${code === 99 ? ' (a threshold failed)' : ''}`);
    return code;
  } finally {
    await fleet.stop();
    await stack.stop();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    log(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 1;
  },
);
