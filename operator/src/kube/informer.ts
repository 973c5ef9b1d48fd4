// An informer that keeps itself alive. The client's informer stops for good on any list/watch error
// other than 410 Gone (it only calls the ERROR handlers); this wrapper restarts it with backoff, and
// the restart re-lists when the resource version has expired.
import {
  makeInformer,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.js';

export interface InformerHandlers<T> {
  upsert: (obj: T) => void;
  remove: (obj: T) => void;
}

export interface RestartingInformerOptions<T extends KubernetesObject> {
  kc: KubeConfig;
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  handlers: InformerHandlers<T>;
  log: Logger;
  onRestart?: () => void;
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Starts an informer and restarts it after every error, until stop(). */
export class RestartingInformer<T extends KubernetesObject> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private stopped = false;
  private failures = 0;
  private timer?: NodeJS.Timeout;
  private synced = false;

  constructor(private readonly o: RestartingInformerOptions<T>) {
    this.informer = makeInformer(o.kc, o.path, o.list, o.labelSelector);
    this.informer.on('add', o.handlers.upsert);
    this.informer.on('update', o.handlers.upsert);
    this.informer.on('delete', o.handlers.remove);
    this.informer.on('connect', () => {
      this.failures = 0;
    });
    this.informer.on('error', (err: unknown) => this.restartLater(err));
  }

  /** Lists, then watches. Resolves after the first list succeeded (or throws its error). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.informer.start();
    this.synced = true;
  }

  /** True once the first list has filled the cache. */
  hasSynced(): boolean {
    return this.synced;
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.informer.stop();
  }

  private restartLater(err: unknown): void {
    if (this.stopped) return;
    this.failures++;
    const min = this.o.minBackoffMs ?? 500;
    const ms = Math.min(this.o.maxBackoffMs ?? 30_000, min * 2 ** (this.failures - 1));
    this.o.log.warn(
      { err, path: this.o.path, retryInMs: ms },
      'informer stopped on an error; restarting',
    );
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopped) return;
      this.o.onRestart?.();
      this.informer.start().then(
        () => {
          this.synced = true;
        },
        (e: unknown) => this.restartLater(e),
      );
    }, ms);
  }
}
