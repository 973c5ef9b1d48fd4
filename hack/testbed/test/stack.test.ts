// The stack's own promises: restarts keep the address, a wipe loses the data, and stop() leaves no
// process, port or folder behind.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Stack } from '../src/stack.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('a test bed stack', () => {
  it('when Redis is restarted with a wipe, then it is back on the same port without its keys', async () => {
    const stack = await Stack.start({ servers: ['redis'], log: () => undefined });
    try {
      const url = stack.env.TESTBED_REDIS_URL as string;
      const before = new Redis(url);
      await before.set('k', 'v');
      before.disconnect();
      await stack.restart('redis', { wipe: true });
      expect(stack.env.TESTBED_REDIS_URL).toBe(url);
      const after = new Redis(url);
      expect(await after.get('k')).toBeNull();
      after.disconnect();
    } finally {
      await stack.stop();
    }
  });

  it('when stopped, then no process, port or folder is left behind', async () => {
    const stack = await Stack.start({ servers: ['redis', 'nats'], log: () => undefined });
    const servers = Object.values(stack.state().servers);
    expect(servers).toHaveLength(2);
    await stack.stop();
    for (const s of servers) {
      expect(alive(s.pid)).toBe(false);
      for (const port of Object.values(s.ports)) expect(await portFree(port)).toBe(true);
    }
    expect(existsSync(stack.root)).toBe(false);
  });
});
