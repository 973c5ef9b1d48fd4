// The logger keeps secrets out of every line, carries the request id of the request being served,
// and writes errors with their cause chain.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig, secretValues } from './config.js';
import { runInRequest } from './context.js';
import { DependencyError } from './errors.js';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, destination };
}

describe('logger', () => {
  const config = loadConfig({
    DATABASE_URL: 'postgres://app:pg-s3cret%2Fpw@db.example:5432/flashsale',
    REDIS_URL: 'redis://:redis-s3cret@cache.example:6379',
    NATS_URL: 'nats://a:nats-s3cret@n1.example:4222,nats://n2.example:4222',
    ADMIN_TOKEN: 'admin-s3cret-token',
  });
  const secrets = [
    'pg-s3cret%2Fpw',
    'pg-s3cret/pw',
    'redis-s3cret',
    'nats-s3cret',
    'admin-s3cret-token',
  ];

  it('when the config has passwords in URLs and a token, then they are its secret values', () => {
    expect(secretValues(config).sort()).toEqual([...secrets].sort());
  });

  it('when a secret is logged — in the config, a message, an error or its cause — then no line holds it', () => {
    const { lines, destination } = capture();
    const log = createLogger('info', { secrets: secretValues(config), destination });
    log.info({ config }, 'configuration');
    log.warn({ url: config.DATABASE_URL }, `connecting to ${config.REDIS_URL}`);
    const cause = new Error(`refused by ${config.NATS_URL} with token ${config.ADMIN_TOKEN}`);
    log.error({ err: new DependencyError('nats', 'publish failed', { cause }) }, 'request failed');
    log.info({ req: { headers: { authorization: 'Bearer whatever-it-is' } } }, 'request');
    expect(lines).toHaveLength(4);
    for (const line of lines) {
      for (const s of secrets) expect(line).not.toContain(s);
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
    expect(lines.join('\n')).not.toContain('whatever-it-is');
    const first = JSON.parse(lines[0]!) as { config: Record<string, string> };
    // What is not secret stays readable.
    expect(first.config.DATABASE_URL).toBe('postgres://app:[redacted]@db.example:5432/flashsale');
    expect(first.config.ADMIN_TOKEN).toBe('[redacted]');
  });

  it('when a line is written while serving a request, then it carries the request id; outside, none', () => {
    const { lines, destination } = capture();
    const log = createLogger('info', { destination });
    runInRequest({ requestId: 'req-1' }, () => {
      log.info({}, 'inside');
    });
    log.info({}, 'outside');
    const [inside, outside] = lines.map((l) => JSON.parse(l) as { requestId?: string });
    expect(inside!.requestId).toBe('req-1');
    expect(outside!.requestId).toBeUndefined();
  });

  it('when an error with a cause is logged, then the cause chain is in the line', () => {
    const { lines, destination } = capture();
    const log = createLogger('info', { destination });
    const err = new DependencyError('postgres', 'getEvent failed', {
      cause: new Error('connection refused'),
    });
    log.error({ err }, 'request failed');
    const line = JSON.parse(lines[0]!) as { err: { message: string; cause?: { message: string } } };
    expect(line.err.message).toBe('postgres: getEvent failed');
    expect(line.err.cause?.message).toBe('connection refused');
  });
});
