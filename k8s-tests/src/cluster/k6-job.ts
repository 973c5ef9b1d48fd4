import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BatchV1Api,
  CoreV1Api,
  Log,
  type KubeConfig,
  type V1EnvVar,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { apiRequest, apiStatus, podProxy } from './kube.js';
import { parseLine, type AnswerLine, type AuditLine } from './samples.js';

/** The k6 scripts shipped in the ConfigMap: ConfigMap key → path under /scripts. */
export const SCRIPT_FILES: Record<string, string> = {
  'main.js': 'main.js',
  'profiles.json': 'profiles.json',
  'lib.config.js': 'lib/config.js',
  'lib.stages.js': 'lib/stages.js',
};

const K6_API_PORT = 6565;

export interface K6JobOptions {
  kc: KubeConfig;
  namespace: string;
  runId: string;
  image: string;
  scenario: string;
  profile: string;
  parallelism: number;
  /** k6 -e style variables for every pod (BASE_URL, RUN_ID, ...). */
  env: Record<string, string>;
  /** The admin token as a Secret reference (never written into the Job or ConfigMap). */
  adminSecret?: { name: string; key: string };
  /** Directory holding main.js, lib/ and profiles.json. */
  scriptDir: string;
  /** The Job's activeDeadlineSeconds: Kubernetes stops the pods after this, whatever happens here. */
  deadlineS: number;
  log: (msg: string) => void;
}

/** What one runner pod did. */
export interface PodResult {
  name: string;
  index: number;
  exitCode: number | null;
  answers: number;
  tail: string[];
}

/** What the whole Job produced: the merged raw samples and audits of every pod. */
export interface K6JobResult {
  answers: AnswerLine[];
  audits: AuditLine[];
  pods: PodResult[];
  /** From the resume to the last answer seen, in seconds. */
  loadSeconds: number;
  complete: boolean;
}

/** The Job and its ConfigMap: made, resumed, followed, and always removed. */
export class K6Job {
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  readonly name: string;
  private readonly logAborts: AbortController[] = [];
  private resumedAt = 0;
  private lastAnswerAt = 0;
  readonly answers: AnswerLine[] = [];
  readonly audits: AuditLine[] = [];
  private readonly perPod = new Map<string, PodResult>();
  private readonly streams: Promise<void>[] = [];

  constructor(private readonly o: K6JobOptions) {
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.batch = o.kc.makeApiClient(BatchV1Api);
    this.name = `k6-${o.runId}`;
  }

  /** Creates the ConfigMap with the scripts and the Indexed Job of paused k6 pods. */
  async create(): Promise<void> {
    const { namespace, parallelism } = this.o;
    const labels = { 'app.kubernetes.io/name': 'k6', 'flashsale.dev/k6-run': this.o.runId };
    await this.core.createNamespacedConfigMap({
      namespace,
      body: {
        metadata: { name: this.name, labels },
        data: Object.fromEntries(
          Object.entries(SCRIPT_FILES).map(([key, path]) => [
            key,
            readFileSync(join(this.o.scriptDir, path), 'utf8'),
          ]),
        ),
      },
    });
    const env: V1EnvVar[] = Object.entries({
      ...this.o.env,
      SCENARIO: this.o.scenario,
      PROFILE: this.o.profile,
      RUN_ID: this.o.runId,
      SEGMENTS: String(parallelism),
      EVENTS_FROM_SERVICE: '1',
    }).map(([name, value]) => ({ name, value }));
    if (this.o.adminSecret)
      env.push({ name: 'ADMIN_TOKEN', valueFrom: { secretKeyRef: this.o.adminSecret } });
    const job: V1Job = {
      metadata: { name: this.name, labels },
      spec: {
        completionMode: 'Indexed',
        completions: parallelism,
        parallelism,
        backoffLimit: 0,
        activeDeadlineSeconds: this.o.deadlineS,
        // A safety net when the runner itself is killed -9: the API server removes the Job later.
        ttlSecondsAfterFinished: 600,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 10001,
              runAsGroup: 10001,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'k6',
                image: this.o.image,
                imagePullPolicy: 'IfNotPresent',
                // Paused until the runner has seen every pod up, then resumed together through
                // the REST API. JSON logs carry the script's one line per answer.
                args: [
                  'run',
                  '--paused',
                  '--address',
                  `0.0.0.0:${K6_API_PORT}`,
                  '--log-format',
                  'json',
                  '--no-thresholds',
                  '--quiet',
                  '/scripts/main.js',
                ],
                env,
                ports: [{ name: 'k6-api', containerPort: K6_API_PORT }],
                resources: {
                  requests: { cpu: '100m', memory: '128Mi' },
                  limits: { memory: '768Mi' },
                },
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [
                  { name: 'scripts', mountPath: '/scripts', readOnly: true },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              {
                name: 'scripts',
                configMap: {
                  name: this.name,
                  items: Object.entries(SCRIPT_FILES).map(([key, path]) => ({ key, path })),
                },
              },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    };
    await this.batch.createNamespacedJob({ namespace, body: job });
    this.o.log(`job ${namespace}/${this.name}: ${parallelism} k6 pods, started paused`);
  }

  private async pods(): Promise<V1Pod[]> {
    const list = await this.core.listNamespacedPod({
      namespace: this.o.namespace,
      labelSelector: `flashsale.dev/k6-run=${this.o.runId}`,
    });
    return list.items;
  }

  /** Waits until every pod runs and its k6 answers paused on the REST API; follows their logs. */
  async waitPaused(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastNote = 0;
    for (;;) {
      const pods = await this.pods();
      const running = pods.filter((p) => p.status?.phase === 'Running');
      for (const p of running) this.follow(p);
      let paused = 0;
      for (const p of running) {
        try {
          const a = await apiRequest(
            this.o.kc,
            'GET',
            podProxy(this.o.namespace, p.metadata?.name ?? '', K6_API_PORT, '/v1/status'),
            undefined,
            undefined,
            5000,
          );
          const attrs = (a.json.data as { attributes?: { paused?: boolean } } | undefined)
            ?.attributes;
          if (a.status === 200 && attrs?.paused === true) paused++;
        } catch {
          /* not listening yet */
        }
      }
      const failed = pods.filter((p) => p.status?.phase === 'Failed');
      if (failed.length)
        throw new Error(
          `k6 pod ${failed[0]?.metadata?.name} failed before the start: ${this.tailOf(failed[0]?.metadata?.name)}`,
        );
      if (paused === this.o.parallelism) return;
      if (Date.now() - lastNote > 5000) {
        lastNote = Date.now();
        this.o.log(
          `waiting for the runners: ${pods.length} pods, ${running.length} running, ${paused}/${this.o.parallelism} paused and ready`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(
          `the k6 pods were not all ready after ${timeoutMs / 1000}s: ${pods
            .map((p) => `${p.metadata?.name}=${p.status?.phase}`)
            .join(' ')}`,
        );
      await sleep(1000);
    }
  }

  private tailOf(name: string | undefined): string {
    return (this.perPod.get(name ?? '')?.tail ?? []).slice(-5).join(' | ');
  }

  /** Streams one pod's log (once per pod), parsing its lines as they come. */
  private follow(pod: V1Pod): void {
    const name = pod.metadata?.name ?? '';
    if (this.perPod.has(name)) return;
    const index = Number(pod.metadata?.annotations?.['batch.kubernetes.io/job-completion-index']);
    const result: PodResult = { name, index, exitCode: null, answers: 0, tail: [] };
    this.perPod.set(name, result);
    const pass = new PassThrough();
    const lines = createInterface({ input: pass });
    lines.on('line', (line) => {
      const p = parseLine(line);
      if (p.kind === 'answer') {
        this.answers.push(p.answer);
        result.answers++;
        this.lastAnswerAt = Date.now();
      } else if (p.kind === 'audit') {
        this.audits.push(p.audit);
      } else {
        const text = p.kind === 'log' ? `${p.level}: ${p.msg}` : p.text;
        if (p.kind === 'log' && (p.level === 'error' || p.level === 'warning'))
          this.o.log(`${name}: ${text}`);
        result.tail.push(text);
        if (result.tail.length > 40) result.tail.shift();
      }
    });
    const done = new Promise<void>((resolve) => lines.on('close', resolve));
    this.streams.push(done);
    new Log(this.o.kc)
      .log(this.o.namespace, name, 'k6', pass, { follow: true })
      .then((abort) => this.logAborts.push(abort))
      .catch((err: unknown) => {
        this.o.log(`${name}: log stream failed: ${String(err)}`);
        pass.end();
      });
  }

  /** Resumes every pod at once (one PATCH each, in parallel) and returns when all are running. */
  async resume(): Promise<void> {
    const pods = await this.pods();
    const body = { data: { type: 'status', id: 'default', attributes: { paused: false } } };
    const answers = await Promise.all(
      pods.map((p) =>
        apiRequest(
          this.o.kc,
          'PATCH',
          podProxy(this.o.namespace, p.metadata?.name ?? '', K6_API_PORT, '/v1/status'),
          body,
        ),
      ),
    );
    const bad = answers.filter((a) => a.status !== 200);
    if (bad.length) throw new Error(`resuming k6 answered ${bad.map((a) => a.status).join(',')}`);
    this.resumedAt = Date.now();
    this.o.log(`resumed ${pods.length} k6 pods together`);
  }

  /** Waits for the Job to end (or the deadline), printing progress every 5 s. */
  async wait(timeoutMs: number, progress?: () => string): Promise<K6JobResult> {
    const deadline = Date.now() + timeoutMs;
    let complete = false;
    let last = 0;
    let lastCount = 0;
    for (;;) {
      const job = await this.batch.readNamespacedJob({
        name: this.name,
        namespace: this.o.namespace,
      });
      const conds = job.status?.conditions ?? [];
      const finished = conds.find(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      if (Date.now() - last >= 5000 || finished) {
        const n = this.answers.length;
        const rate = last ? ((n - lastCount) * 1000) / (Date.now() - last) : 0;
        last = Date.now();
        lastCount = n;
        this.o.log(
          `load: ${n} answers from ${this.perPod.size} pods (${rate.toFixed(0)}/s), job active=${job.status?.active ?? 0} succeeded=${job.status?.succeeded ?? 0} failed=${job.status?.failed ?? 0}${progress ? `; ${progress()}` : ''}`,
        );
      }
      if (finished) {
        complete = finished.type === 'Complete';
        if (!complete) this.o.log(`job failed: ${finished.reason ?? ''} ${finished.message ?? ''}`);
        break;
      }
      if (Date.now() > deadline) {
        this.o.log(`job still running after ${timeoutMs / 1000}s: stopping it`);
        break;
      }
      await sleep(1000);
    }
    // The log streams end when the containers do; a short grace for their last lines.
    await Promise.race([Promise.all(this.streams), sleep(15_000)]);
    for (const p of await this.pods()) {
      const r = this.perPod.get(p.metadata?.name ?? '');
      const term = p.status?.containerStatuses?.[0]?.state?.terminated;
      if (r && term) r.exitCode = term.exitCode;
    }
    return {
      answers: this.answers,
      audits: this.audits,
      pods: [...this.perPod.values()].sort((a, b) => a.index - b.index),
      loadSeconds: this.resumedAt
        ? Math.max(0.001, ((this.lastAnswerAt || Date.now()) - this.resumedAt) / 1000)
        : 0,
      complete,
    };
  }

  /** Removes the Job (with its pods) and the ConfigMap; safe to call twice, and on interrupt. */
  async cleanup(): Promise<void> {
    for (const a of this.logAborts) a.abort();
    const { namespace } = this.o;
    const gone = (err: unknown) => {
      if (apiStatus(err) !== 404) this.o.log(`cleanup: ${String(err)}`);
    };
    await this.batch
      .deleteNamespacedJob({
        name: this.name,
        namespace,
        propagationPolicy: 'Background',
        gracePeriodSeconds: 0,
      })
      .catch(gone);
    await this.core
      .deleteCollectionNamespacedPod({
        namespace,
        labelSelector: `flashsale.dev/k6-run=${this.o.runId}`,
        gracePeriodSeconds: 0,
      })
      .catch(gone);
    await this.core.deleteNamespacedConfigMap({ name: this.name, namespace }).catch(gone);
    this.o.log(`cleanup: removed job, pods and configmap ${this.name}`);
  }
}
