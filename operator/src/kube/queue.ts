// A work queue keyed by `namespace/name`: one reconcile per key at a time, a key added while it
// runs is run once more afterwards, failures are retried with exponential backoff, and a successful
// run may ask to run again after a delay (the decision loop).

export type Handler = (key: string) => Promise<{ requeueAfterMs?: number } | void>;

interface Entry {
  running: boolean;
  dirty: boolean;
  failures: number;
  timer?: NodeJS.Timeout;
  due?: number;
}

export interface QueueOptions {
  baseBackoffMs: number;
  maxBackoffMs: number;
  onError: (key: string, err: unknown, retryInMs: number) => void;
}

/** Per-key serialized work queue with backoff. */
export class WorkQueue {
  private readonly entries = new Map<string, Entry>();
  private stopped = false;
  private readonly idle = new Set<() => void>();

  constructor(
    private readonly handler: Handler,
    private readonly opts: QueueOptions,
  ) {}

  /** Runs the key now (or right after its current run). */
  add(key: string): void {
    if (this.stopped) return;
    const e = this.entry(key);
    if (e.running) {
      e.dirty = true;
      return;
    }
    this.clearTimer(e);
    void this.run(key, e);
  }

  /** Runs the key after `ms`, unless it is due sooner already. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const e = this.entry(key);
    const due = Date.now() + ms;
    if (e.timer && e.due !== undefined && e.due <= due) return;
    this.clearTimer(e);
    e.due = due;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      e.due = undefined;
      this.add(key);
    }, ms);
  }

  /** Forgets the key (its object is gone): no more runs are scheduled. */
  forget(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.clearTimer(e);
    if (!e.running) this.entries.delete(key);
    else e.dirty = false;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Stops scheduling and waits for the runs in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const e of this.entries.values()) this.clearTimer(e);
    if ([...this.entries.values()].some((e) => e.running))
      await new Promise<void>((r) => this.idle.add(r));
  }

  private entry(key: string): Entry {
    let e = this.entries.get(key);
    if (!e) {
      e = { running: false, dirty: false, failures: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  private clearTimer(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    e.timer = undefined;
    e.due = undefined;
  }

  private async run(key: string, e: Entry): Promise<void> {
    e.running = true;
    e.dirty = false;
    let next: number | undefined;
    try {
      const r = await this.handler(key);
      e.failures = 0;
      next = r ? r.requeueAfterMs : undefined;
    } catch (err) {
      e.failures++;
      next = Math.min(this.opts.maxBackoffMs, this.opts.baseBackoffMs * 2 ** (e.failures - 1));
      this.opts.onError(key, err, next);
    } finally {
      e.running = false;
    }
    if (this.stopped) {
      if (![...this.entries.values()].some((x) => x.running)) for (const r of this.idle) r();
      return;
    }
    if (e.dirty) this.add(key);
    else if (next !== undefined) this.addAfter(key, next);
  }
}
