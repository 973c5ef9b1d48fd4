// Smoke tests of the test bed: each server is real, reachable at the URL the global setup
// exported, and does the one thing the project relies on it for.
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import {
  AckPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the test bed's global setup did not run`);
  return v;
}

describe('the test bed', () => {
  it('runs a real Postgres that answers queries and enforces constraints', async () => {
    const client = new pg.Client({ connectionString: env('TESTBED_POSTGRES_URL') });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string }>('select version()');
      expect(rows[0]?.version).toMatch(/^PostgreSQL \d+/);
      await client.query('create temp table t (n int check (n > 0))');
      await expect(client.query('insert into t values (0)')).rejects.toThrow(/check constraint/);
    } finally {
      await client.end();
    }
  });

  it('runs a real Redis that evaluates Lua atomically', async () => {
    const redis = new Redis(env('TESTBED_REDIS_URL'));
    try {
      const key = `smoke:${randomUUID()}`;
      await redis.set(key, '3');
      const script =
        "local v = tonumber(redis.call('GET', KEYS[1])); if v > 0 then return redis.call('DECR', KEYS[1]) end; return -1";
      const results = await Promise.all(
        Array.from({ length: 5 }, () => redis.eval(script, 1, key)),
      );
      expect(results.sort()).toEqual([-1, -1, 0, 1, 2]);
      await redis.del(key);
    } finally {
      redis.disconnect();
    }
  });

  it('runs a real NATS JetStream: a message published with an id is deduplicated and consumed with ack', async () => {
    const nc = await connect({ servers: env('TESTBED_NATS_URL') });
    const name = `SMOKE_${randomUUID().slice(0, 8)}`;
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name,
        subjects: [`${name}.>`],
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        duplicate_window: 60_000_000_000,
      });
      await jsm.consumers.add(name, { durable_name: 'smoke', ack_policy: AckPolicy.Explicit });
      const js = jetstream(nc);
      const first = await js.publish(`${name}.a`, 'hello', { msgID: 'one' });
      const again = await js.publish(`${name}.a`, 'hello', { msgID: 'one' });
      expect(first.duplicate).toBe(false);
      expect(again.duplicate).toBe(true);
      const consumer = await js.consumers.get(name, 'smoke');
      const msg = await consumer.next({ expires: 5000 });
      expect(msg?.string()).toBe('hello');
      expect(await msg?.ackAck()).toBe(true);
      // Work-queue retention: the acked message is gone from the stream.
      await expect
        .poll(async () => (await jsm.streams.info(name)).state.messages, { timeout: 5000 })
        .toBe(0);
      await jsm.streams.delete(name);
    } finally {
      await nc.close();
    }
  });

  describe('Prometheus', () => {
    let target: Server | undefined;
    let targetFile: string | undefined;
    afterAll(() => {
      target?.close();
      if (targetFile) rmSync(targetFile, { force: true });
    });

    it('scrapes a target registered through file discovery and answers a query about it', async () => {
      const job = `smoke_${randomUUID().slice(0, 8)}`;
      target = createServer((_req, res) => {
        res.setHeader('content-type', 'text/plain; version=0.0.4');
        res.end(`# TYPE flashsale_smoke_total counter\nflashsale_smoke_total 42\n`);
      });
      await new Promise<void>((r) => target?.listen(0, '127.0.0.1', r));
      const addr = target.address();
      if (!addr || typeof addr !== 'object') throw new Error('no address');
      targetFile = join(env('TESTBED_PROMETHEUS_TARGETS_DIR'), `${job}.json`);
      writeFileSync(
        targetFile,
        JSON.stringify([{ targets: [`127.0.0.1:${addr.port}`], labels: { smoke: job } }]),
      );
      const query = encodeURIComponent(`flashsale_smoke_total{smoke="${job}"}`);
      await expect
        .poll(
          async () => {
            const res = await fetch(`${env('TESTBED_PROMETHEUS_URL')}/api/v1/query?query=${query}`);
            const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
            return body.data.result[0]?.value[1];
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe('42');
    });
  });

  it('runs a real Kubernetes control plane: a Deployment gets a ReplicaSet from the controller manager', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(env('TESTBED_KUBECONFIG'));
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const namespace = `smoke-${randomUUID().slice(0, 8)}`;
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    try {
      const labels = { app: 'smoke' };
      await apps.createNamespacedDeployment({
        namespace,
        body: {
          metadata: { name: 'smoke' },
          spec: {
            replicas: 2,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: { containers: [{ name: 'c', image: 'flashsale/none:dev' }] },
            },
          },
        },
      });
      let replicaSets = 0;
      let pods = 0;
      for (let i = 0; i < 150 && (replicaSets === 0 || pods < 2); i++) {
        replicaSets = (await apps.listNamespacedReplicaSet({ namespace })).items.length;
        pods = (await core.listNamespacedPod({ namespace })).items.length;
        await sleep(200);
      }
      expect(replicaSets).toBe(1);
      // The ReplicaSet controller created the pods (no node runs them in this control plane).
      expect(pods).toBe(2);
    } finally {
      await core.deleteNamespace({ name: namespace });
    }
  });
});
