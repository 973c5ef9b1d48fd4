// The ReservationAutoscaler resource as the controller reads it. The CRD schema applies the same
// defaults on the server; parsing here again keeps an object written under an older CRD (or with
// the defaults stripped) from reaching the decision half-filled.
import { z } from 'zod';
import type { DecisionSpec } from './decision.js';
import type { FixedWindow, PreScaleSpec } from './prescale.js';
import type { RemediationSpec } from './remediation.js';

export const GROUP = 'flashsale.dev';
export const VERSION = 'v1alpha1';
export const PLURAL = 'reservationautoscalers';
export const KIND = 'ReservationAutoscaler';

/** The default query: POST reservations per second over every reservation pod, from the last two scrapes. */
export const DEFAULT_QUERY =
  'sum(irate(flashsale_http_requests_total{route="/v1/events/:id/reservations",method="POST"}[30s]))';

const pos = z.number().int().min(1);
const nonneg = z.number().int().min(0);

const SpecSchema = z
  .object({
    scaleTargetRef: z.object({ name: z.string().min(1) }),
    minReplicas: nonneg.default(2),
    maxReplicas: pos.default(20),
    targetRpsPerReplica: pos.default(500),
    targetBacklogPerReplica: pos.default(5000),
    tolerancePercent: z.number().int().min(0).max(100).default(10),
    prometheus: z
      .object({
        address: z.string().url().default('http://prometheus:9090'),
        query: z.string().min(1).default(DEFAULT_QUERY),
      })
      .prefault({}),
    jetstream: z
      .object({
        url: z.string().min(1).default('nats://nats:4222'),
        stream: z.string().min(1).default('RESERVATIONS'),
        consumer: z.string().min(1).default('reservation-worker'),
      })
      .prefault({}),
    behavior: z
      .object({
        scaleUp: z
          .object({ stabilizationWindowSeconds: nonneg.default(0), maxStepPods: nonneg.default(0) })
          .prefault({}),
        scaleDown: z
          .object({
            stabilizationWindowSeconds: nonneg.default(120),
            maxStepPods: nonneg.default(2),
            maxStepPercent: z.number().int().min(0).max(100).default(25),
            periodSeconds: nonneg.default(15),
          })
          .prefault({}),
      })
      .prefault({}),
    fallback: z
      .object({ failureThreshold: pos.default(3), replicas: nonneg.default(0) })
      .prefault({}),
    preScale: z
      .object({
        enabled: z.boolean().default(true),
        scheduleUrl: z.string().url().default('http://reservation'),
        leadSeconds: nonneg.default(60),
        holdSeconds: nonneg.default(120),
        expectedRpsPerTicket: z.number().min(0).default(10),
        maxExpectedRps: pos.default(20_000),
        windows: z
          .array(z.object({ start: z.string(), end: z.string(), replicas: nonneg }))
          .default([]),
      })
      .prefault({}),
    remediation: z
      .object({
        enabled: z.boolean().default(true),
        restartThreshold: pos.default(3),
        notReadySeconds: pos.default(120),
        maxConcurrent: pos.default(1),
        maxUnhealthyPercent: z.number().int().min(0).max(100).default(40),
      })
      .prefault({}),
    paused: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  })
  .refine((s) => s.minReplicas <= s.maxReplicas, {
    message: 'minReplicas must be <= maxReplicas',
    path: ['minReplicas'],
  });

export type AutoscalerSpec = z.output<typeof SpecSchema>;

export interface Condition {
  type: 'Ready' | 'MetricsAvailable' | 'ScalingLimited';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

export interface AutoscalerStatus {
  observedGeneration?: number;
  currentReplicas?: number;
  desiredReplicas?: number;
  recommendedReplicas?: number;
  observedRps?: number | null;
  observedBacklog?: number | null;
  lastReason?: string;
  lastMessage?: string;
  lastDecisionTime?: string;
  lastScaleTime?: string;
  lastScaleDownTime?: string;
  preScale?: string | null;
  conditions?: Condition[];
}

export interface ReservationAutoscaler {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    generation?: number;
    uid?: string;
    resourceVersion?: string;
  };
  spec?: unknown;
  status?: AutoscalerStatus;
}

/** Parses a spec with defaults; throws a readable message when it is invalid. */
export function parseSpec(raw: unknown): AutoscalerSpec {
  const r = SpecSchema.safeParse(raw ?? {});
  if (!r.success)
    throw new Error(r.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '));
  return r.data;
}

/** The decision's view of a spec. */
export function decisionSpec(s: AutoscalerSpec): DecisionSpec {
  return {
    minReplicas: s.minReplicas,
    maxReplicas: s.maxReplicas,
    targetRpsPerReplica: s.targetRpsPerReplica,
    targetBacklogPerReplica: s.targetBacklogPerReplica,
    tolerance: s.tolerancePercent / 100,
    scaleUp: s.behavior.scaleUp,
    scaleDown: s.behavior.scaleDown,
    fallback: s.fallback.replicas > 0 ? s.fallback : undefined,
    paused: s.paused,
    dryRun: s.dryRun,
  };
}

export function preScaleSpec(s: AutoscalerSpec): PreScaleSpec {
  const { enabled, leadSeconds, holdSeconds, expectedRpsPerTicket, maxExpectedRps } = s.preScale;
  return { enabled, leadSeconds, holdSeconds, expectedRpsPerTicket, maxExpectedRps };
}

export function fixedWindows(s: AutoscalerSpec): FixedWindow[] {
  return s.preScale.windows
    .map((w) => ({ start: Date.parse(w.start), end: Date.parse(w.end), replicas: w.replicas }))
    .filter((w) => Number.isFinite(w.start) && Number.isFinite(w.end));
}

export function remediationSpec(s: AutoscalerSpec): RemediationSpec {
  return s.remediation;
}
