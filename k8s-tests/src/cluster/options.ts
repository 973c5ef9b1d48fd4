// The one place the in-cluster runners read their settings: the environment (make passes
// SCENARIO, PARALLELISM, ...) and --name=value arguments, validated with zod.
import { join } from 'node:path';
import { z } from 'zod';
import { repoRoot } from '@flashsale/testbed';

const schema = z.object({
  kubeconfig: z.string().min(1),
  namespace: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a Kubernetes namespace name')
    .max(63),
  scenario: z.enum(['burst', 'ramp', 'soak', 'chaos']),
  profile: z.enum(['short', 'full']),
  parallelism: z.coerce.number().int().min(1).max(32),
  image: z.string().min(1).optional(),
  report: z.string().min(1).optional(),
  /** Upper bound of the whole run, in seconds (the Job's deadline is derived from it). */
  timeoutS: z.coerce.number().int().min(30).max(7200),
  /** How long the system may take to decide every accepted request after the load. */
  drainTimeoutS: z.coerce.number().int().min(5).max(900),
  /** chaos: a reservation pod is deleted or evicted about this often. */
  killEveryS: z.coerce.number().min(1).max(120),
  /** chaos: the helm release to upgrade during the load ("" = find it, or roll the Deployment). */
  release: z.string().optional(),
});

export type Options = z.infer<typeof schema>;

/** Settings of `make k6` / `make chaos`; throws a readable message on a bad value. */
export function readOptions(defaults: Partial<Record<keyof Options, string>>): Options {
  const arg = (name: string) =>
    process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const pick = (name: keyof Options, envName: string) =>
    arg(name) ?? (process.env[envName] || undefined) ?? defaults[name];
  const parsed = schema.safeParse({
    kubeconfig:
      pick('kubeconfig', 'KUBECONFIG') ??
      join(process.env.FLASHSALE_CLUSTER_DIR ?? '/var/lib/flashsale-cluster', 'admin.kubeconfig'),
    namespace: pick('namespace', 'NAMESPACE'),
    scenario: pick('scenario', 'SCENARIO'),
    profile: pick('profile', 'PROFILE'),
    parallelism: pick('parallelism', 'PARALLELISM'),
    image: pick('image', 'K6_IMAGE'),
    report: pick('report', 'REPORT'),
    timeoutS: pick('timeoutS', 'TIMEOUT_S'),
    drainTimeoutS: pick('drainTimeoutS', 'DRAIN_TIMEOUT_S'),
    killEveryS: pick('killEveryS', 'KILL_EVERY_S'),
    release: pick('release', 'RELEASE'),
  });
  if (!parsed.success)
    throw new Error(
      `bad settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  return parsed.data;
}

/** Where the k6 scripts live (shipped to the pods in a ConfigMap). */
export const K6_DIR = join(repoRoot, 'k8s-tests', 'k6');
