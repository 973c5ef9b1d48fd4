import { describe, expect, it } from 'vitest';
import { WorkQueue } from './queue.js';

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('when a key is added while it runs, then it runs once more after, never twice at once', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release: () => void = () => undefined;
    const q = new WorkQueue(
      async () => {
        runs++;
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise<void>((r) => (release = r));
        active--;
      },
      { baseBackoffMs: 10, maxBackoffMs: 100, onError: () => undefined },
    );
    q.add('ns/a');
    q.add('ns/a');
    q.add('ns/a');
    await tick();
    release();
    await tick();
    release();
    await tick();
    expect({ runs, maxActive }).toEqual({ runs: 2, maxActive: 1 });
    await q.stop();
  });

  it('when a run fails, then it is retried with growing backoff until it succeeds', async () => {
    const delays: number[] = [];
    let calls = 0;
    const q = new WorkQueue(
      () => {
        calls++;
        return calls < 4 ? Promise.reject(new Error('boom')) : Promise.resolve();
      },
      { baseBackoffMs: 5, maxBackoffMs: 12, onError: (_k, _e, ms) => delays.push(ms) },
    );
    q.add('ns/b');
    while (calls < 4) await tick(5);
    expect(delays).toEqual([5, 10, 12]);
    await q.stop();
  });

  it('when keys differ, then they run side by side', async () => {
    const started: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        started.push(k);
        await tick(20);
      },
      { baseBackoffMs: 5, maxBackoffMs: 5, onError: () => undefined },
    );
    q.add('ns/a');
    q.add('ns/b');
    await tick(1);
    expect(started.sort()).toEqual(['ns/a', 'ns/b']);
    await q.stop();
  });
});
