import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { AppsV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { goTool, repoRoot } from '@flashsale/testbed';
import { apiRequest, apiStatus } from './kube.js';
import { podsOf, type Role } from './target.js';

const run = promisify(execFile);

/** One fault the chaos run caused (or tried to), as the report lists it. */
export interface Fault {
  atMs: number;
  kind: 'delete' | 'evict' | 'upgrade';
  target: Role | 'release';
  pod?: string;
  graceSeconds?: number;
  /** done; refused (the PodDisruptionBudget said no: 429); skipped (no pod to hit); error */
  result: 'done' | 'refused' | 'skipped' | 'error';
  detail?: string;
  tookMs: number;
}

/** Deletes or evicts pods of the target namespace, and upgrades the release, recording each. */
export class Disruptor {
  readonly faults: Fault[] = [];
  private readonly core: CoreV1Api;

  constructor(
    private readonly kc: KubeConfig,
    private readonly namespace: string,
    private readonly kubeconfigPath: string,
    private readonly t0: number,
    private readonly log: (msg: string) => void,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Deletes (optionally with a grace period, 0 = at once) or evicts one random pod of a role. */
  async disrupt(role: Role, mode: 'delete' | 'evict', graceSeconds?: number): Promise<Fault> {
    const start = Date.now();
    const pods = await podsOf(this.kc, this.namespace, role);
    const pod = pods[Math.floor(Math.random() * pods.length)]?.metadata?.name;
    const f: Fault = {
      atMs: start - this.t0,
      kind: mode,
      target: role,
      pod,
      graceSeconds,
      result: 'done',
      tookMs: 0,
    };
    try {
      if (!pod) f.result = 'skipped';
      else if (mode === 'delete')
        await this.core.deleteNamespacedPod({
          name: pod,
          namespace: this.namespace,
          gracePeriodSeconds: graceSeconds,
        });
      else
        await this.core.createNamespacedPodEviction({
          name: pod,
          namespace: this.namespace,
          body: {
            apiVersion: 'policy/v1',
            kind: 'Eviction',
            metadata: { name: pod, namespace: this.namespace },
          },
        });
    } catch (err) {
      // 429: the eviction would break the PodDisruptionBudget; the API refused it, as it should.
      if (mode === 'evict' && apiStatus(err) === 429) f.result = 'refused';
      else {
        f.result = 'error';
        f.detail = String(err).slice(0, 300);
      }
    }
    f.tookMs = Date.now() - start;
    this.faults.push(f);
    this.log(
      `fault: ${mode} ${role} ${pod ?? '(none running)'}${graceSeconds !== undefined ? ` grace=${graceSeconds}s` : ''}: ${f.result}${f.detail ? ` ${f.detail}` : ''}`,
    );
    return f;
  }

  /**
   * Changes a value of the running system during the load: `helm upgrade --reuse-values` with a
   * changed pod annotation when a Helm release is installed in the namespace (a rolling update of
   * the reservation pods); without a release (the stand-in stack), the same rolling update by
   * patching the Deployment's pod template.
   */
  async upgrade(release: string | undefined, value: string): Promise<Fault> {
    const start = Date.now();
    const f: Fault = {
      atMs: start - this.t0,
      kind: 'upgrade',
      target: 'release',
      result: 'done',
      tookMs: 0,
    };
    try {
      const rel = release ?? (await this.findRelease());
      if (rel) {
        const setting =
          process.env.CHAOS_UPGRADE_SET ?? `reservation.podAnnotations.chaos-upgrade=${value}`;
        f.detail = `helm upgrade ${rel} --reuse-values --set-string ${setting}`;
        await run(
          goTool('helm'),
          [
            'upgrade',
            rel,
            `${repoRoot}/charts/flashsale`,
            '-n',
            this.namespace,
            '--reuse-values',
            '--set-string',
            setting,
          ],
          { env: { ...process.env, KUBECONFIG: this.kubeconfigPath }, timeout: 120_000 },
        );
      } else {
        const deploys = (
          await this.kc
            .makeApiClient(AppsV1Api)
            .listNamespacedDeployment({ namespace: this.namespace })
        ).items;
        const d = deploys.find((x) => x.metadata?.name?.includes('reservation'))?.metadata?.name;
        if (!d) throw new Error('no reservation Deployment');
        f.detail = `no Helm release in ${this.namespace}: rolling update of deployment/${d} (pod template annotation)`;
        const a = await apiRequest(
          this.kc,
          'PATCH',
          `/apis/apps/v1/namespaces/${this.namespace}/deployments/${d}`,
          {
            spec: {
              template: { metadata: { annotations: { 'flashsale.dev/chaos-upgrade': value } } },
            },
          },
          'application/strategic-merge-patch+json',
        );
        if (a.status !== 200)
          throw new Error(`patch answered ${a.status}: ${a.text.slice(0, 200)}`);
      }
    } catch (err) {
      f.result = 'error';
      f.detail = `${f.detail ?? ''} ${String(err).slice(0, 400)}`.trim();
    }
    f.tookMs = Date.now() - start;
    this.faults.push(f);
    this.log(`fault: upgrade during the load: ${f.result} (${f.detail ?? ''}, ${f.tookMs} ms)`);
    return f;
  }

  private async findRelease(): Promise<string | undefined> {
    try {
      const { stdout } = await run(goTool('helm'), ['list', '-n', this.namespace, '-o', 'json'], {
        env: { ...process.env, KUBECONFIG: this.kubeconfigPath },
        timeout: 30_000,
      });
      const list = JSON.parse(stdout) as { name: string; chart: string }[];
      return list.find((r) => r.chart.startsWith('flashsale'))?.name;
    } catch {
      return undefined;
    }
  }
}

/** Waits until `at` (epoch ms) unless `stopped()` turns true first; false when stopped. */
export async function until(at: number, stopped: () => boolean): Promise<boolean> {
  while (Date.now() < at) {
    if (stopped()) return false;
    await sleep(Math.min(250, at - Date.now()));
  }
  return !stopped();
}
