// The Kubernetes API, read-only except for load-test Jobs: Deployments, pods, Events and the
// operator's ReservationAutoscalers in one namespace. Every call is bounded in time; an API server
// that refuses (401/403) or is down becomes an UpstreamError, never a crash.
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type CoreV1Event,
  type V1Pod,
} from '@kubernetes/client-node';
import { z } from 'zod';
import type {
  AutoscalerInfo,
  AutoscalerView,
  DeploymentInfo,
  FeedItem,
  PodInfo,
} from '../api-types.js';
import { asUpstreamError, UpstreamCode, UpstreamError, within } from './errors.js';

export const AUTOSCALER = {
  group: 'flashsale.dev',
  version: 'v1alpha1',
  plural: 'reservationautoscalers',
} as const;

/** The custom resource the operator serves (tests use a group of their own). */
export interface AutoscalerResource {
  group: string;
  version: string;
  plural: string;
}

/** Where the client configuration comes from. */
export interface KubeOptions {
  kubeconfig: string;
  inCluster: boolean;
  namespace: string;
  timeoutMs: number;
}

/** Loads a KubeConfig: the file when given, the pod's service account in a cluster, else the default. */
export function loadKubeConfig(opts: Pick<KubeOptions, 'kubeconfig' | 'inCluster'>): KubeConfig {
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else if (opts.inCluster) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

function kubeError(err: unknown): UpstreamError {
  if (err instanceof ApiException) {
    const code =
      err.code === 401 || err.code === 403 ? UpstreamCode.Unauthorized : UpstreamCode.HttpStatus;
    const body = err.body as { message?: string } | string | undefined;
    const message = typeof body === 'object' && body?.message ? body.message : `HTTP ${err.code}`;
    return new UpstreamError('kubernetes', code, message, err.code, { cause: err });
  }
  return asUpstreamError('kubernetes', err);
}

const num = z.number().nullable().catch(null);
const str = z.string().nullable().catch(null);
const bool = z.boolean().nullable().catch(null);
// The operator's object as it writes it: the field names are those of the CRD
// (charts/flashsale/crds/) and of the operator's AutoscalerStatus (operator/src/spec.ts), which the
// unit test holds this reader to. Each field is read on its own, so one of the wrong type (an older
// operator, a hand-edited status) shows as unknown instead of hiding the rest.
const autoscalerObject = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z
    .object({
      scaleTargetRef: z.object({ name: z.string() }).partial().optional().catch(undefined),
      minReplicas: num.optional(),
      maxReplicas: num.optional(),
      paused: bool.optional(),
      dryRun: bool.optional(),
    })
    .partial()
    .catch({}),
  status: z
    .object({
      desiredReplicas: num.optional(),
      recommendedReplicas: num.optional(),
      currentReplicas: num.optional(),
      observedRps: num.optional(),
      observedBacklog: num.optional(),
      lastReason: str.optional(),
      lastMessage: str.optional(),
      lastDecisionTime: str.optional(),
      lastScaleTime: str.optional(),
      preScale: str.optional(),
      conditions: z
        .array(
          z.object({
            type: z.string(),
            status: z.string(),
            reason: z.string().catch(''),
            message: z.string().catch(''),
          }),
        )
        .catch([]),
    })
    .partial()
    .catch({}),
});

/**
 * The parts of a ReservationAutoscaler the page shows. `desiredReplicas` is what the operator set
 * (the current count while paused or in dry-run); `recommendedReplicas` is what it decided.
 */
export function toAutoscalerInfo(obj: unknown): AutoscalerInfo | null {
  const p = autoscalerObject.safeParse(obj);
  if (!p.success) return null;
  const { metadata, spec, status } = p.data;
  return {
    name: metadata.name,
    target: spec.scaleTargetRef?.name ?? '',
    minReplicas: spec.minReplicas ?? null,
    maxReplicas: spec.maxReplicas ?? null,
    mode: spec.paused ? 'paused' : spec.dryRun ? 'dryRun' : 'active',
    desiredReplicas: status.desiredReplicas ?? null,
    recommendedReplicas: status.recommendedReplicas ?? null,
    currentReplicas: status.currentReplicas ?? null,
    observedRps: status.observedRps ?? null,
    observedBacklog: status.observedBacklog ?? null,
    lastReason: status.lastReason ?? null,
    lastMessage: status.lastMessage ?? null,
    lastDecisionAt: status.lastDecisionTime ?? null,
    lastScaleAt: status.lastScaleTime ?? null,
    preScale: status.preScale ?? null,
    conditions: status.conditions ?? [],
  };
}

function podInfo(p: V1Pod, now: number): PodInfo {
  const statuses = p.status?.containerStatuses ?? [];
  const created = p.metadata?.creationTimestamp
    ? new Date(p.metadata.creationTimestamp).getTime()
    : now;
  const ready = (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const waiting = statuses.map((s) => s.state?.waiting?.reason).find(Boolean);
  const phase = p.metadata?.deletionTimestamp ? 'Terminating' : (p.status?.phase ?? 'Unknown');
  return {
    name: p.metadata?.name ?? '',
    phase,
    ready,
    restarts: statuses.reduce((a, s) => a + (s.restartCount ?? 0), 0),
    ageSeconds: Math.max(0, Math.round((now - created) / 1000)),
    node: p.spec?.nodeName ?? null,
    reason: waiting ?? p.status?.reason ?? null,
  };
}

function eventTime(e: CoreV1Event): string {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return (t ? new Date(t) : new Date(0)).toISOString();
}

/** A Kubernetes Event as a feed line; the operator's Events are its scaling decisions. */
export function eventToFeed(e: CoreV1Event): FeedItem {
  const obj = e.involvedObject;
  const isDecision = obj?.kind === 'ReservationAutoscaler';
  return {
    at: eventTime(e),
    kind: isDecision ? 'decision' : 'event',
    severity: e.type === 'Warning' ? 'warning' : 'info',
    title: e.reason ?? 'Event',
    detail: e.message ?? '',
    object: `${obj?.kind ?? '?'}/${obj?.name ?? '?'}`,
    count: e.count ?? 1,
  };
}

/** A read-mostly view of one namespace. */
export class Kube {
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    readonly kc: KubeConfig,
    readonly namespace: string,
    readonly timeoutMs: number,
    private readonly resource: AutoscalerResource = AUTOSCALER,
  ) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  /** Runs one API call with the time bound and the error mapping. */
  async call<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await within('kubernetes', f(), this.timeoutMs);
    } catch (err) {
      throw kubeError(err);
    }
  }

  async deployments(): Promise<DeploymentInfo[]> {
    const list = await this.call(() =>
      this.apps.listNamespacedDeployment({ namespace: this.namespace }),
    );
    return list.items
      .map((d) => ({
        name: d.metadata?.name ?? '',
        desired: d.spec?.replicas ?? 0,
        ready: d.status?.readyReplicas ?? 0,
        available: d.status?.availableReplicas ?? 0,
        updated: d.status?.updatedReplicas ?? 0,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async pods(now = Date.now()): Promise<PodInfo[]> {
    const list = await this.call(() => this.core.listNamespacedPod({ namespace: this.namespace }));
    return list.items.map((p) => podInfo(p, now)).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The newest Events of the namespace, newest first. */
  async events(limit = 50): Promise<FeedItem[]> {
    const list = await this.call(() =>
      this.core.listNamespacedEvent({ namespace: this.namespace }),
    );
    return list.items
      .map(eventToFeed)
      .sort((a, b) => b.at.localeCompare(a.at))
      .slice(0, limit);
  }

  /**
   * The operator's autoscalers; "not installed" when the CRD does not exist. Told from the list in
   * this namespace alone (no cluster-wide read, so no ClusterRole whose name two releases would
   * share): the Role allows the list, and the API server answers 404 for a type it does not serve.
   */
  async autoscalers(): Promise<AutoscalerView> {
    try {
      const list = await this.call(() =>
        this.custom.listNamespacedCustomObject({
          group: this.resource.group,
          version: this.resource.version,
          namespace: this.namespace,
          plural: this.resource.plural,
        }),
      );
      const items = ((list as { items?: unknown[] }).items ?? [])
        .map(toAutoscalerInfo)
        .filter((a): a is AutoscalerInfo => a !== null);
      return { installed: true, items };
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 404) return { installed: false };
      throw err;
    }
  }
}
