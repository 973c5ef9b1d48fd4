// The "launch the rush" button: a load test is a k6 Job in the cluster (image flashsale/k6, script
// from a ConfigMap). The rest of the backend sees only the LoadTests interface, so another runner
// (a k6 operator TestRun, a local k6) can replace the Job without touching the routes.
import type { V1Job } from '@kubernetes/client-node';
import type { LaunchLoadTestRequest, LoadTestRun, LoadTestSummary } from './api-types.js';
import type { Kube } from './upstreams/kubernetes.js';

/** What the routes need from a load-test runner. */
export interface LoadTests {
  launch(req: LaunchLoadTestRequest): Promise<LoadTestRun>;
  list(): Promise<LoadTestRun[]>;
}

export interface K6JobSettings {
  namespace: string;
  image: string;
  configMap: string;
  scriptKey: string;
  targetUrl: string;
}

export const LOADTEST_LABELS = {
  'app.kubernetes.io/name': 'flashsale',
  'app.kubernetes.io/component': 'loadtest',
  'flashsale.dev/launched-by': 'dashboard',
} as const;
const ANN = {
  eventId: 'flashsale.dev/event-id',
  vus: 'flashsale.dev/vus',
  duration: 'flashsale.dev/duration-seconds',
} as const;

/**
 * The k6 Job for one launch. The k6 shortcut flags (--vus, --duration) bound the run whatever the
 * script's own options say; the script also gets the target, sale and size as environment
 * variables (BASE_URL, EVENT_ID, VUS, DURATION). activeDeadlineSeconds stops a Job that hangs.
 */
export function k6JobSpec(req: LaunchLoadTestRequest, s: K6JobSettings): V1Job {
  const labels = { ...LOADTEST_LABELS };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      generateName: 'loadtest-',
      namespace: s.namespace,
      labels,
      annotations: {
        [ANN.eventId]: req.eventId,
        [ANN.vus]: String(req.vus),
        [ANN.duration]: String(req.durationSeconds),
      },
    },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: req.durationSeconds + 120,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            runAsGroup: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'k6',
              image: s.image,
              imagePullPolicy: 'IfNotPresent',
              args: [
                'run',
                '--no-usage-report',
                '--vus',
                String(req.vus),
                '--duration',
                `${req.durationSeconds}s`,
                `/scripts/${s.scriptKey}`,
              ],
              env: [
                { name: 'BASE_URL', value: s.targetUrl },
                { name: 'EVENT_ID', value: req.eventId },
                { name: 'VUS', value: String(req.vus) },
                { name: 'DURATION', value: `${req.durationSeconds}s` },
              ],
              volumeMounts: [{ name: 'scripts', mountPath: '/scripts', readOnly: true }],
              resources: {
                requests: { cpu: '100m', memory: '128Mi' },
                limits: { memory: '1Gi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
          volumes: [{ name: 'scripts', configMap: { name: s.configMap } }],
        },
      },
    },
  };
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1000, m: 60_000 };

function durationMs(v: string | undefined): number | null {
  if (!v) return null;
  const m = /^([\d.]+)(ns|µs|us|ms|s|m)$/.exec(v);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : null;
}

/** Reads the figures the page shows from k6's end-of-test text summary (null where absent). */
export function parseK6Summary(text: string): LoadTestSummary | null {
  const reqs = /http_reqs\.*:\s*([\d.]+)\s+([\d.]+)\/s/.exec(text);
  const p95 = /http_req_duration\.*:.*?p\(95\)=([\d.]+(?:ns|µs|us|ms|s|m))/.exec(text);
  const failed = /http_req_failed\.*:\s*([\d.]+)%/.exec(text);
  const checks =
    /checks_succeeded\.*:\s*([\d.]+)%/.exec(text) ?? /checks\.*:\s*([\d.]+)%/.exec(text);
  if (!reqs && !p95 && !failed && !checks) return null;
  return {
    requests: reqs ? Number(reqs[1]) : null,
    requestsPerSecond: reqs ? Number(reqs[2]) : null,
    p95Ms: durationMs(p95?.[1]),
    failedRate: failed ? Number(failed[1]) / 100 : null,
    checksRate: checks ? Number(checks[1]) / 100 : null,
  };
}

function runOf(job: V1Job): LoadTestRun {
  const a = job.metadata?.annotations ?? {};
  const st = job.status ?? {};
  const state: LoadTestRun['state'] =
    (st.succeeded ?? 0) > 0
      ? 'succeeded'
      : (st.failed ?? 0) > 0 ||
          (st.conditions ?? []).some((c) => c.type === 'Failed' && c.status === 'True')
        ? 'failed'
        : (st.active ?? 0) > 0
          ? 'running'
          : 'pending';
  return {
    name: job.metadata?.name ?? '',
    eventId: a[ANN.eventId] ?? '',
    vus: Number(a[ANN.vus] ?? 0),
    durationSeconds: Number(a[ANN.duration] ?? 0),
    createdAt: (job.metadata?.creationTimestamp
      ? new Date(job.metadata.creationTimestamp)
      : new Date(0)
    ).toISOString(),
    state,
    active: st.active ?? 0,
    succeeded: st.succeeded ?? 0,
    failed: st.failed ?? 0,
    summary: null,
  };
}

/** Load tests as k6 Jobs in the dashboard's namespace. */
export class K6JobLoadTests implements LoadTests {
  /** Summaries of finished Jobs do not change: each pod log is read until it once answers. */
  private readonly summaries = new Map<string, LoadTestRun['summary']>();

  constructor(
    private readonly kube: Kube,
    private readonly settings: K6JobSettings,
  ) {}

  async launch(req: LaunchLoadTestRequest): Promise<LoadTestRun> {
    const job = await this.kube.call(() =>
      this.kube.batch.createNamespacedJob({
        namespace: this.settings.namespace,
        body: k6JobSpec(req, this.settings),
      }),
    );
    return runOf(job);
  }

  async list(): Promise<LoadTestRun[]> {
    const selector = Object.entries(LOADTEST_LABELS)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const jobs = await this.kube.call(() =>
      this.kube.batch.listNamespacedJob({
        namespace: this.settings.namespace,
        labelSelector: selector,
      }),
    );
    const runs = jobs.items.map(runOf).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    for (const run of runs.slice(0, 5)) {
      if (run.state !== 'succeeded' && run.state !== 'failed') continue;
      if (!this.summaries.has(run.name)) {
        const read = await this.readSummary(run.name);
        // A log that could not be read (yet) is tried again next round; one that was read is kept,
        // with or without a summary in it.
        if (read !== undefined) this.summaries.set(run.name, read);
      }
      run.summary = this.summaries.get(run.name) ?? null;
    }
    return runs.slice(0, 10);
  }

  /** The summary in the Job's pod log; null when the log has none, undefined when unreadable. */
  private async readSummary(job: string): Promise<LoadTestSummary | null | undefined> {
    try {
      const pods = await this.kube.call(() =>
        this.kube.core.listNamespacedPod({
          namespace: this.settings.namespace,
          labelSelector: `job-name=${job}`,
        }),
      );
      const pod = pods.items[0]?.metadata?.name;
      if (!pod) return undefined;
      const log = await this.kube.call(() =>
        this.kube.core.readNamespacedPodLog({
          name: pod,
          namespace: this.settings.namespace,
          container: 'k6',
          tailLines: 200,
        }),
      );
      return parseK6Summary(log);
    } catch {
      // A log that cannot be read (pod gone, API busy, no RBAC for pods/log) leaves the summary
      // unknown for this round.
      return undefined;
    }
  }
}
