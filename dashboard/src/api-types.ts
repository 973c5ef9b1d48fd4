// The JSON the backend serves and the page reads. Types only: the page imports this file too, so
// it must not import anything that runs.

/** A part of an answer that came from one upstream: its data, or why there is none. */
export type Section<T> = { ok: true; data: T } | { ok: false; error: SectionError };

export interface SectionError {
  /** Which upstream failed. */
  source: UpstreamName;
  /** Stable code: timeout, unreachable, unauthorized, http_status, bad_answer, not_configured. */
  code: string;
  message: string;
}

export type UpstreamName = 'kubernetes' | 'prometheus' | 'reservation';

export type HealthState = 'up' | 'down' | 'unknown';

/** One light of the health strip. */
export interface Health {
  name: 'kubernetes' | 'prometheus' | 'reservation' | 'postgres' | 'redis' | 'nats';
  state: HealthState;
  detail: string;
}

export interface DeploymentInfo {
  name: string;
  desired: number;
  ready: number;
  available: number;
  updated: number;
}

export interface PodInfo {
  name: string;
  phase: string;
  ready: boolean;
  restarts: number;
  /** Seconds since the pod was created. */
  ageSeconds: number;
  node: string | null;
  /** The container waiting reason (CrashLoopBackOff, ...), if any. */
  reason: string | null;
}

export interface AutoscalerCondition {
  type: string;
  status: string;
  reason: string;
  message: string;
}

/** One ReservationAutoscaler as the operator writes it (status fields of its CRD). */
export interface AutoscalerInfo {
  name: string;
  /** spec.scaleTargetRef.name: the Deployment it scales. */
  target: string;
  minReplicas: number | null;
  maxReplicas: number | null;
  /** spec.paused / spec.dryRun: whether its decisions are applied. */
  mode: 'active' | 'paused' | 'dryRun';
  /** status.desiredReplicas: what it set (the current count while paused or in dry-run). */
  desiredReplicas: number | null;
  /** status.recommendedReplicas: what it decided, applied or not. */
  recommendedReplicas: number | null;
  currentReplicas: number | null;
  /** Null when the signal was unavailable at the last decision. */
  observedRps: number | null;
  observedBacklog: number | null;
  lastReason: string | null;
  lastMessage: string | null;
  /** ISO times: status.lastDecisionTime and status.lastScaleTime. */
  lastDecisionAt: string | null;
  lastScaleAt: string | null;
  /** The sale-schedule floor in force, e.g. "6 replicas: sale X opens in 40 s". */
  preScale: string | null;
  conditions: AutoscalerCondition[];
}

/** The operator's custom resource: absent CRD = not installed, which is not an error. */
export type AutoscalerView = { installed: false } | { installed: true; items: AutoscalerInfo[] };

export interface FeedItem {
  /** ISO time. */
  at: string;
  kind: 'error' | 'event' | 'decision';
  severity: 'info' | 'warning' | 'error';
  title: string;
  detail: string;
  /** The object it is about, e.g. Pod/reservation-abc. */
  object: string;
  count: number;
}

export interface SaleInventory {
  id: string;
  name: string;
  state: string;
  capacity: number;
  sold: number;
  remaining: number;
  saleStartsAt: string | null;
  saleEndsAt: string | null;
  /** From the audit (admin token); null without it. */
  pending: number | null;
  oversold: boolean | null;
  drift: number | null;
  reservations: number | null;
}

export interface LoadTestRun {
  name: string;
  eventId: string;
  vus: number;
  durationSeconds: number;
  createdAt: string;
  state: 'pending' | 'running' | 'succeeded' | 'failed';
  active: number;
  succeeded: number;
  failed: number;
  /** From the k6 end-of-test summary once the Job finished, else null. */
  summary: LoadTestSummary | null;
}

export interface LoadTestSummary {
  requests: number | null;
  requestsPerSecond: number | null;
  p95Ms: number | null;
  failedRate: number | null;
  checksRate: number | null;
}

/** One sample of the replicas history the backend keeps. */
export interface ReplicaPoint {
  /** Unix milliseconds. */
  t: number;
  desired: number | null;
  ready: number | null;
  /** The autoscaler's decision (status.recommendedReplicas) and the reason of its last decision. */
  autoscalerDesired: number | null;
  reason: string | null;
}

/** What the SSE stream pushes every 1–2 s (and GET /api/state answers). */
export interface LiveState {
  at: string;
  namespace: string;
  health: Health[];
  deployments: Section<DeploymentInfo[]>;
  pods: Section<PodInfo[]>;
  autoscaler: Section<AutoscalerView>;
  sales: Section<SaleInventory[]>;
  feed: FeedItem[];
  replicas: ReplicaPoint[];
  loadTests: Section<LoadTestRun[]>;
  /** Whether the backend has an admin token (so the page can offer the admin actions). */
  adminEnabled: boolean;
}

export const TRAFFIC_KEYS = [
  'rps',
  'acceptLatency',
  'decisionLatency',
  'errorRate',
  'backlog',
  'outcomes',
  'cpu',
  'memory',
] as const;
export type TrafficKey = (typeof TRAFFIC_KEYS)[number];

export interface Series {
  name: string;
  /** [unix seconds, value]; value null where Prometheus had NaN/Inf. */
  points: Array<[number, number | null]>;
}

export interface Traffic {
  /** Unix seconds. */
  start: number;
  end: number;
  step: number;
  queries: Record<TrafficKey, Section<Series[]>>;
}

export interface CreateSaleRequest {
  name: string;
  capacity: number;
  saleStartsAt?: string;
  saleEndsAt?: string;
}

export interface LaunchLoadTestRequest {
  eventId: string;
  vus: number;
  durationSeconds: number;
}

/** RFC 9457 problem details, with the stable code. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  errors?: Array<{ path: string; message: string }>;
}
