// Leader election on a coordination.k8s.io/v1 Lease, written here because @kubernetes/client-node
// ships none (see docs/adr/0019). The rules follow client-go's leaderelection: the holder renews every
// retry period; a leader that has not renewed within the renew deadline stops acting; another
// candidate takes over when the Lease's renewTime is a lease duration old — but never sooner than a
// renew deadline after it itself saw that renewal, nor later than a lease duration after (client-go's
// rule), so clock skew can only cost time, never give two leaders (see docs/adr/0019);
// on shutdown the holder releases the Lease so the successor need not wait. The holder makes its own
// pod the Lease's owner (when it knows its uid): once every operator pod is gone — helm uninstall —
// the garbage collector removes the Lease too, instead of leaving it behind.
import {
  ApiException,
  V1MicroTime,
  type CoordinationV1Api,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.js';

export interface LeaderElectionOptions {
  api: CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  /** The pod this instance runs in: set as the Lease's owner by whoever holds it. */
  ownerPod?: { name: string; uid: string };
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
}

const code = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

/** Campaigns for the Lease until stop(); calls back on every change of leadership. */
export class LeaderElector {
  private leading = false;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private lastRenew = 0;
  /** What we saw last of someone else's Lease, and when (local clock). */
  private observed?: { key: string; at: number };
  private tick?: Promise<void>;
  /** Delay before the next attempt when it differs from the retry period (see tryAcquireOrRenew). */
  private nextDelayMs?: number;

  constructor(private readonly o: LeaderElectionOptions) {}

  /**
   * Leading, and renewed within the renew deadline: a leader that was frozen or cut off past its
   * deadline stops acting at once, even before its next renewal attempt says so.
   */
  isLeader(): boolean {
    return this.leading && Date.now() - this.lastRenew < this.o.renewDeadlineMs;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the Lease so another instance takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.tick;
    if (!this.leading) return;
    this.setLeading(false);
    try {
      const lease = await this.read();
      if (lease?.spec?.holderIdentity === this.o.identity) {
        lease.spec.holderIdentity = undefined;
        lease.spec.leaseDurationSeconds = 1;
        lease.spec.renewTime = new V1MicroTime();
        await this.o.api.replaceNamespacedLease({
          name: this.o.name,
          namespace: this.o.namespace,
          body: lease,
        });
        this.o.log.info({ lease: this.o.name }, 'lease released');
      }
    } catch (err) {
      this.o.log.warn(
        { err },
        'could not release the lease; the next leader waits for it to expire',
      );
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick = this.tryAcquireOrRenew().finally(() => {
        const next = this.nextDelayMs ?? this.o.retryPeriodMs;
        this.nextDelayMs = undefined;
        this.schedule(next);
      });
    }, ms);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.o.api.readNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
      });
    } catch (err) {
      if (code(err) === 404) return undefined;
      throw err;
    }
  }

  private setLeading(v: boolean): void {
    if (v === this.leading) return;
    this.leading = v;
    this.o.log.info(
      { identity: this.o.identity, leading: v },
      v ? 'became leader' : 'stopped leading',
    );
    if (v) this.o.onStartedLeading();
    else this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<void> {
    const now = Date.now();
    const durationSec = Math.max(1, Math.ceil(this.o.leaseDurationMs / 1000));
    try {
      const lease = await this.read();
      if (!lease) {
        await this.o.api.createNamespacedLease({
          namespace: this.o.namespace,
          body: {
            metadata: {
              name: this.o.name,
              namespace: this.o.namespace,
              ownerReferences: this.ownerReferences(),
            },
            spec: {
              holderIdentity: this.o.identity,
              leaseDurationSeconds: durationSec,
              acquireTime: new V1MicroTime(now),
              renewTime: new V1MicroTime(now),
              leaseTransitions: 0,
            },
          },
        });
        this.renewed(now);
        return;
      }
      const spec = (lease.spec ??= {});
      const holder = spec.holderIdentity ?? '';
      if (holder !== this.o.identity && holder !== '') {
        // Someone else holds it: see takeoverAt for when it counts as expired.
        const key = `${holder}|${String(spec.renewTime)}|${lease.metadata?.resourceVersion}`;
        if (this.observed?.key !== key) this.observed = { key, at: now };
        const ttl = (spec.leaseDurationSeconds ?? durationSec) * 1000;
        const at = takeoverAt({
          observedAt: this.observed.at,
          renewTime: spec.renewTime ? new Date(spec.renewTime).getTime() : undefined,
          leaseDurationMs: ttl,
          renewDeadlineMs: Math.min(this.o.renewDeadlineMs, ttl),
        });
        if (now < at) {
          this.setLeading(false);
          // A standby looks again sooner than the holder renews (a renewal it sees late moves the
          // floor of takeoverAt), and tries again the moment the lease runs out.
          this.nextDelayMs = Math.max(50, Math.min(at - now, this.o.retryPeriodMs / 4));
          return;
        }
      }
      const takingOver = holder !== this.o.identity;
      spec.holderIdentity = this.o.identity;
      spec.leaseDurationSeconds = durationSec;
      spec.renewTime = new V1MicroTime(now);
      if (takingOver) {
        spec.acquireTime = new V1MicroTime(now);
        spec.leaseTransitions = (spec.leaseTransitions ?? 0) + 1;
        const owners = this.ownerReferences();
        if (owners) (lease.metadata ??= {}).ownerReferences = owners;
      }
      // replace carries the resourceVersion we read: a concurrent writer makes this a 409.
      await this.o.api.replaceNamespacedLease({
        name: this.o.name,
        namespace: this.o.namespace,
        body: lease,
      });
      this.renewed(now);
    } catch (err) {
      const c = code(err);
      if (c !== 409) this.o.log.warn({ err, status: c }, 'lease read/renew failed');
      if (this.leading && Date.now() - this.lastRenew > this.o.renewDeadlineMs)
        this.setLeading(false);
    }
  }

  private ownerReferences() {
    const p = this.o.ownerPod;
    return p ? [{ apiVersion: 'v1', kind: 'Pod', name: p.name, uid: p.uid }] : undefined;
  }

  private renewed(now: number): void {
    this.lastRenew = now;
    this.observed = undefined;
    this.setLeading(true);
  }
}

/**
 * When a standby may take over someone else's Lease (local clock, ms).
 *
 * - Normally `renewTime + leaseDuration`: the lease as the holder wrote it, so a crashed leader is
 *   replaced within one lease duration of its last renewal.
 * - Never before `observedAt + renewDeadline`: the holder stamps renewTime before its write and
 *   stops acting a renew deadline after that stamp (isLeader), and we saw the write after it
 *   happened, so whatever the holder's clock says, it has stopped acting by then.
 * - Never after `observedAt + leaseDuration`: client-go's rule, which needs no clock at all.
 *
 * The clocks only move the answer inside that interval; they can make a takeover later, not unsafe.
 */
export function takeoverAt(o: {
  observedAt: number;
  renewTime: number | undefined;
  leaseDurationMs: number;
  renewDeadlineMs: number;
}): number {
  const latest = o.observedAt + o.leaseDurationMs;
  if (o.renewTime === undefined || !Number.isFinite(o.renewTime)) return latest;
  const earliest = o.observedAt + o.renewDeadlineMs;
  return Math.min(latest, Math.max(earliest, o.renewTime + o.leaseDurationMs));
}
