// make dashboard-e2e: the dashboard of the system installed by the Helm chart on the host cluster,
// opened in Debian's headless Chromium through kubectl port-forward, with a load going (the k6 Job
// its own launcher starts). When the release is not in NAMESPACE yet, it is installed first with
// hack/cluster/make-up.sh (which also brings the cluster up) and removed at the end
// (DASHBOARD_E2E_KEEP=1 keeps it); a release that was there is used as it is and left alone.
// Checks, each written to reports/dashboard-e2e.json as passed true/false:
//   launcherStartsJob    the launcher, used from the keyboard, creates a k6 Job with the chart's image
//   chartsNonEmpty       the replicas, RPS, latency and outcome charts draw series
//   replicasEqualApi     the reservation Deployment's ready/desired shown equal the API's
//   eventInFeed          an Event of the launched Job (from the API) appears in the feed
//   inventoryEqualsAudit sold/remaining shown equal the audit of the sale under load
//   loadTestSummary      that Job finishes and its k6 summary appears on the page
//   autoscalerEqualsApi  the autoscaler panel shows the ReservationAutoscaler's status, or "not
//                        installed" exactly when the API has none
//   accessibility        axe-core finds no serious or critical violation at either size
//   screenshots          reports/dashboard-e2e-1440x900.png and -390x844.png written
// Exits non-zero when any check failed. Bounded: every wait has a timeout, the k6 run is small.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
} from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { z } from 'zod';
import { CHROMIUM, drawn, seriousViolations, tabTo } from '../test/page-checks.js';
import { formatNumber } from '../web/src/format.js';
import { PortForward } from './port-forward.js';

// The script's own settings (a test tool, not a deployable: its settings are read here). The
// object names default to those the Helm chart gives RELEASE (charts/flashsale).
const env = z
  .object({
    KUBECONFIG: z.string().min(1),
    KUBECTL: z.string().default('kubectl'),
    HELM: z.string().default('helm'),
    NAMESPACE: z.string().default('flashsale'),
    RELEASE: z.string().default('flashsale'),
    /** Extra helm arguments when this run installs the release, e.g. --set operator.enabled=false. */
    DASHBOARD_E2E_HELM_ARGS: z.string().default(''),
    /** 1 = keep a release this run installed. */
    DASHBOARD_E2E_KEEP: z.enum(['0', '1']).default('0'),
    DASHBOARD_PORT: z.coerce.number().int().default(80),
    RESERVATION_PORT: z.coerce.number().int().default(80),
    ADMIN_SECRET_KEY: z.string().default('admin-token'),
    // A small rush (about 40 requests/s): enough for every chart to draw, modest on a shared machine.
    LOAD_VUS: z.coerce.number().int().min(1).max(500).default(4),
    LOAD_SECONDS: z.coerce.number().int().min(5).max(120).default(15),
    WAIT_SECONDS: z.coerce.number().int().min(10).max(900).default(120),
  })
  .parse(process.env);
const settings = {
  ...env,
  dashboardService: `${env.RELEASE}-dashboard`,
  reservationService: `${env.RELEASE}-reservation`,
  reservationDeployment: `${env.RELEASE}-reservation`,
  adminSecret: `${env.RELEASE}-admin`,
};

const repo = fileURLToPath(new URL('../../', import.meta.url));
const reports = join(repo, 'reports');
const t0 = Date.now();
const log = (line: string) =>
  process.stderr.write(
    `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] dashboard-e2e ${line}\n`,
  );

interface Check {
  name: string;
  passed: boolean;
  detail: string;
  seconds: number;
}
const checks: Check[] = [];
async function check(name: string, f: () => Promise<string>): Promise<void> {
  log(`${name}...`);
  const start = Date.now();
  const seconds = () => Math.round((Date.now() - start) / 100) / 10;
  try {
    const detail = await f();
    checks.push({ name, passed: true, detail, seconds: seconds() });
    log(`${name}: passed (${detail})`);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    checks.push({ name, passed: false, detail, seconds: seconds() });
    log(`${name}: FAILED ${detail}`);
  }
}

/** Retries f every second until it answers a value; throws with the last error after `seconds`. */
async function until<T>(
  what: string,
  f: () => Promise<T | undefined>,
  seconds = settings.WAIT_SECONDS,
): Promise<T> {
  const end = Date.now() + seconds * 1000;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(
    `no ${what} within ${seconds} s${last ? ` (last: ${last instanceof Error ? last.message : String(last)})` : ''}`,
  );
}

async function json<T>(url: string, init: { body?: unknown; token?: string } = {}): Promise<T> {
  const res = await fetch(url, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Runs a command with the output on stderr (its progress lines); rejects on a non-zero exit. */
function run(cmd: string, args: string[], extraEnv: Record<string, string> = {}): Promise<void> {
  log(`$ ${[cmd, ...args].join(' ')}`);
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, {
      cwd: repo,
      env: { ...process.env, ...extraEnv },
      stdio: ['ignore', process.stderr, process.stderr],
    });
    p.on('error', reject);
    p.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args[0] ?? ''} ended with ${signal ?? `exit code ${code}`}`)),
    );
  });
}

const notFound = (err: unknown) => err instanceof ApiException && err.code === 404;

/** Whether the cluster answers with the admin kubeconfig. */
async function clusterUp(kc: KubeConfig): Promise<boolean> {
  if (!existsSync(settings.KUBECONFIG)) return false;
  try {
    await kc.makeApiClient(CoreV1Api).listNamespace({ limit: 1 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the release runs in NAMESPACE with its dashboard; answers whether this run installed
 * it (and so removes it). A release that is there without a dashboard is refused, not changed.
 */
async function ensureRelease(): Promise<{ kc: KubeConfig; installed: boolean }> {
  const load = () => {
    const kc = new KubeConfig();
    if (existsSync(settings.KUBECONFIG)) kc.loadFromFile(settings.KUBECONFIG);
    return kc;
  };
  let kc = load();
  const ns = settings.NAMESPACE;
  if (await clusterUp(kc)) {
    // Helm keeps each release's record in Secrets labelled owner=helm,name=<release>.
    const records = await kc.makeApiClient(CoreV1Api).listNamespacedSecret({
      namespace: ns,
      labelSelector: `owner=helm,name=${settings.RELEASE}`,
    });
    if (records.items.length > 0) {
      try {
        await kc
          .makeApiClient(AppsV1Api)
          .readNamespacedDeployment({ name: settings.dashboardService, namespace: ns });
      } catch (err) {
        if (notFound(err))
          throw new Error(
            `release ${settings.RELEASE} in ${ns} has no dashboard (dashboard.enabled=false): ` +
              'enable it, or run with another NAMESPACE',
          );
        throw err;
      }
      log(`release ${settings.RELEASE} is installed in ${ns}: using it as it is`);
      return { kc, installed: false };
    }
  }
  log(`release ${settings.RELEASE} is not in ${ns}: installing it (hack/cluster/make-up.sh up)`);
  await run(join(repo, 'hack/cluster/make-up.sh'), ['up'], {
    FLASHSALE_CLUSTER: 'host',
    FLASHSALE_NAMESPACE: ns,
    FLASHSALE_RELEASE: settings.RELEASE,
    FLASHSALE_HELM_ARGS: settings.DASHBOARD_E2E_HELM_ARGS,
  });
  kc = load();
  return { kc, installed: true };
}

/** Removes what ensureRelease installed: the release, its namespace and its volumes. */
async function removeRelease(): Promise<void> {
  const ns = settings.NAMESPACE;
  log(`removing release ${settings.RELEASE} and namespace ${ns} (installed by this run)`);
  const kubeconfig = ['--kubeconfig', settings.KUBECONFIG];
  await run(settings.HELM, [
    'uninstall',
    settings.RELEASE,
    '-n',
    ns,
    ...kubeconfig,
    '--wait',
    '--timeout',
    '120s',
  ]).catch((err: unknown) => log(`helm uninstall: ${String(err)}`));
  await run(settings.KUBECTL, [
    ...kubeconfig,
    'delete',
    'namespace',
    ns,
    '--ignore-not-found',
    '--wait=true',
    '--timeout=180s',
  ]).catch((err: unknown) => log(`delete namespace: ${String(err)}`));
  await run(join(repo, 'hack/cluster/volumes.sh'), ['delete', ns]).catch((err: unknown) =>
    log(`volumes: ${String(err)}`),
  );
}

const forwards: PortForward[] = [];
let browser: Browser | undefined;

async function runChecks(kc: KubeConfig): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ns = settings.NAMESPACE;

  const dashboardDeployment = await until('a Ready dashboard pod', async () => {
    const d = await apps.readNamespacedDeployment({
      name: settings.dashboardService,
      namespace: ns,
    });
    return (d.status?.readyReplicas ?? 0) > 0 ? d : undefined;
  });
  const k6Image =
    dashboardDeployment.spec?.template.spec?.containers[0]?.env?.find((e) => e.name === 'K6_IMAGE')
      ?.value ?? '';
  const secret = await core.readNamespacedSecret({ name: settings.adminSecret, namespace: ns });
  const token = Buffer.from(secret.data?.[settings.ADMIN_SECRET_KEY] ?? '', 'base64').toString();
  if (!token) throw new Error(`secret ${settings.adminSecret} has no ${settings.ADMIN_SECRET_KEY}`);

  const pf = (service: string, remotePort: number) => {
    const f = new PortForward({
      kubectl: settings.KUBECTL,
      kubeconfig: settings.KUBECONFIG,
      namespace: ns,
      service,
      remotePort,
      log,
    });
    forwards.push(f);
    return f.start();
  };
  const dash = await pf(settings.dashboardService, settings.DASHBOARD_PORT);
  const rsv = await pf(settings.reservationService, settings.RESERVATION_PORT);
  log(`dashboard on ${dash}, reservation on ${rsv}`);
  // Through the dashboard's own admin route: the sale the rush is launched at.
  const sale = await json<{ id: string; name: string }>(`${dash}/api/sales`, {
    // More tickets than the rush asks for (about 10 requests/s per user): 202s for the whole run,
    // so the accept-latency histogram grows across several scrapes and its chart can draw.
    body: { name: `e2e rush ${new Date().toISOString().slice(11, 19)}`, capacity: 1000 },
    token,
  });
  log(`sale ${sale.id} created`);

  browser = await chromium.launch(CHROMIUM);
  const page: Page = await browser.newPage({
    viewport: { width: 1440, height: 900 },
    bypassCSP: true,
  });
  await page.goto(dash);
  await page.getByTestId('inventory').waitFor({ timeout: 30_000 });

  let jobName = '';
  await check('launcherStartsJob', async () => {
    // Start the Tab sequence at the launcher's heading (the panels above are reachable the same way).
    await page.locator('#launcher-title').click();
    if (!(await tabTo(page, 'Admin token')))
      throw new Error('the token field is not reachable with Tab');
    await page.keyboard.type(token);
    await until(
      'the sale in the launcher',
      async () =>
        (await page.locator(`select option[value="${sale.id}"]`).count()) > 0 ? true : undefined,
      30,
    );
    // The select's label text includes its options' names, so it is found by its form.
    const launchForm = page.locator('form[aria-labelledby="launch-title"]');
    await launchForm.locator('select').selectOption(sale.id);
    await page.getByLabel('Virtual users', { exact: true }).fill(String(settings.LOAD_VUS));
    await page
      .getByLabel('Duration (seconds)', { exact: true })
      .fill(String(settings.LOAD_SECONDS));
    await page.getByRole('button', { name: 'Launch the rush' }).focus();
    await page.keyboard.press('Enter');
    const text = await until(
      'a launch confirmation',
      async () => {
        const t = await page
          .getByTestId('launcher')
          .locator('form[aria-labelledby="launch-title"] [role="status"]')
          .textContent({ timeout: 1000 });
        return t && /launched/.test(t) ? t : undefined;
      },
      30,
    );
    jobName = /(loadtest-\S+) launched/.exec(text)?.[1] ?? '';
    const job = await batch.readNamespacedJob({ name: jobName, namespace: ns });
    const image = job.spec?.template.spec?.containers[0]?.image ?? '';
    if (image !== k6Image) throw new Error(`the Job runs ${image}, the chart set ${k6Image}`);
    return `${jobName} (${image}, ${settings.LOAD_VUS} VUs for ${settings.LOAD_SECONDS} s)`;
  });

  await check('chartsNonEmpty', async () => {
    const charts = ['replicas', 'chart-rps', 'chart-acceptLatency', 'chart-outcomes'];
    await until('drawn charts', async () => {
      const missing = (
        await Promise.all(charts.map(async (c) => ((await drawn(page, c)) ? '' : c)))
      )
        .filter(Boolean)
        .join(', ');
      if (missing) throw new Error(`not drawn: ${missing}`);
      return true;
    });
    return charts.join(', ');
  });

  await check('replicasEqualApi', async () =>
    until(
      'replicas equal to the API',
      async () => {
        const d = await apps.readNamespacedDeployment({
          name: settings.reservationDeployment,
          namespace: ns,
        });
        const want = `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`;
        const name = settings.reservationDeployment;
        const shown = `${await page.getByTestId(`deployment-${name}-ready`).textContent()}/${await page.getByTestId(`deployment-${name}-desired`).textContent()}`;
        if (shown !== want) throw new Error(`shown ${shown}, API ${want}`);
        return `ready/desired ${shown}`;
      },
      60,
    ),
  );

  await check('eventInFeed', async () => {
    if (!jobName) throw new Error('no Job was launched');
    // The Job controller's SuccessfulCreate: an Event this run caused, so it cannot be an old one.
    const event = await until(
      'an Event of the launched Job in the API',
      async () =>
        (
          await core.listNamespacedEvent({
            namespace: ns,
            fieldSelector: `involvedObject.kind=Job,involvedObject.name=${jobName}`,
          })
        ).items.find((e) => e.reason),
      30,
    );
    const reason = event.reason ?? '';
    const object = `Job/${jobName}`;
    return until(
      'that Event in the feed',
      async () => {
        const item = page
          .getByTestId('feed')
          .locator('li')
          .filter({ has: page.locator('.feed-object', { hasText: object }) })
          .filter({ has: page.locator('.feed-title', { hasText: reason }) });
        return (await item.count()) > 0 ? `${reason} ${object}` : undefined;
      },
      30,
    );
  });

  await check('inventoryEqualsAudit', async () =>
    until('the inventory equal to the audit', async () => {
      const audit = await json<{ sold: number; capacity: number }>(
        `${rsv}/v1/events/${sale.id}/audit`,
        { token },
      );
      const sold = await page.getByTestId(`sale-${sale.id}-sold`).textContent({ timeout: 1000 });
      const remaining = await page
        .getByTestId(`sale-${sale.id}-remaining`)
        .textContent({ timeout: 1000 });
      const want = `sold ${formatNumber(audit.sold)}, remaining ${formatNumber(audit.capacity - audit.sold)}`;
      const shown = `sold ${sold}, remaining ${remaining}`;
      if (audit.sold === 0) throw new Error('nothing sold yet');
      if (shown !== want) throw new Error(`shown ${shown}; audit ${want}`);
      return shown;
    }),
  );

  await check('loadTestSummary', async () => {
    if (!jobName) throw new Error('no Job was launched');
    const summary = await until(
      'the k6 summary on the page',
      async () =>
        (await page
          .getByTestId(`loadtest-${jobName}-summary`)
          .textContent({ timeout: 1000 })
          .catch(() => null)) ?? undefined,
      settings.LOAD_SECONDS + settings.WAIT_SECONDS,
    );
    const job = await batch.readNamespacedJob({ name: jobName, namespace: ns });
    const state = (job.status?.succeeded ?? 0) > 0 ? 'succeeded' : 'failed';
    return `${summary.replace(/\s+/g, ' ').trim()} (Job ${state})`;
  });

  await check('autoscalerEqualsApi', async () =>
    until(
      'the autoscaler panel equal to the API',
      async () => {
        let items: Array<{
          spec?: { scaleTargetRef?: { name?: string } };
          status?: {
            recommendedReplicas?: number;
            desiredReplicas?: number;
            currentReplicas?: number;
            lastReason?: string;
          };
        }>;
        try {
          const list = await custom.listNamespacedCustomObject({
            group: 'flashsale.dev',
            version: 'v1alpha1',
            namespace: ns,
            plural: 'reservationautoscalers',
          });
          items = (list as { items: typeof items }).items;
        } catch (err) {
          if (!notFound(err)) throw err;
          await page.getByTestId('autoscaler-not-installed').waitFor({ timeout: 1000 });
          return 'not installed (no CRD), as the API says';
        }
        if (items.length === 0) {
          await page.getByTestId('autoscaler-none').waitFor({ timeout: 1000 });
          return 'not installed here (no ReservationAutoscaler in the namespace), as the API says';
        }
        const a =
          items.find((i) => i.spec?.scaleTargetRef?.name === settings.reservationDeployment) ??
          items[0];
        const s = a?.status ?? {};
        // Equal dashes before the operator's first decision would prove nothing: wait for one.
        if (!s.lastReason) throw new Error('the operator has written no status yet');
        const want = `${formatNumber(s.recommendedReplicas)} / ${formatNumber(s.desiredReplicas)} / ${formatNumber(s.currentReplicas)}`;
        const shown = (
          await page.getByTestId('autoscaler-desired').first().textContent({ timeout: 1000 })
        )?.replace(/\s+/g, ' ');
        const reason = await page
          .getByTestId('autoscaler-reason')
          .first()
          .textContent({ timeout: 1000 });
        if (shown !== want || !reason?.startsWith(s.lastReason ?? '—'))
          throw new Error(`shown ${shown} ${reason}; API ${want} ${s.lastReason}`);
        return `decided / set / current ${shown}, last decision ${reason}`;
      },
      60,
    ),
  );

  const phone = await browser.newPage({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    bypassCSP: true,
  });
  await phone.goto(dash);
  await until(
    'the phone page',
    async () => ((await drawn(phone, 'chart-rps')) ? true : undefined),
    60,
  ).catch(() => log('the phone page drew no RPS chart within 60 s'));
  await check('accessibility', async () => {
    const found = [...(await seriousViolations(page)), ...(await seriousViolations(phone))];
    if (found.length) throw new Error(found.join('; '));
    return 'no serious or critical violation at 1440×900 and 390×844';
  });
  await check('screenshots', async () => {
    await page.screenshot({ path: join(reports, 'dashboard-e2e-1440x900.png'), fullPage: true });
    await phone.screenshot({ path: join(reports, 'dashboard-e2e-390x844.png'), fullPage: true });
    return 'reports/dashboard-e2e-{1440x900,390x844}.png';
  });
}

function writeReport(extra: Record<string, unknown> = {}): boolean {
  const ok = checks.length > 0 && checks.every((c) => c.passed);
  writeFileSync(
    join(reports, 'dashboard-e2e.json'),
    `${JSON.stringify(
      {
        ok,
        namespace: settings.NAMESPACE,
        release: settings.RELEASE,
        seconds: Math.round((Date.now() - t0) / 1000),
        ...extra,
        checks,
      },
      null,
      2,
    )}\n`,
  );
  log(
    `${checks.filter((c) => c.passed).length} passed, ${checks.filter((c) => !c.passed).length} failed; reports/dashboard-e2e.json`,
  );
  return ok;
}

async function main(): Promise<number> {
  mkdirSync(reports, { recursive: true });
  let installed = false;
  let installSeconds: number | null = null;
  try {
    const t = Date.now();
    const r = await ensureRelease();
    installed = r.installed;
    if (installed) installSeconds = Math.round((Date.now() - t) / 1000);
    await runChecks(r.kc);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    checks.push({ name: 'setup', passed: false, detail, seconds: 0 });
    log(`setup failed: ${detail}`);
  } finally {
    await browser?.close().catch(() => undefined);
    for (const f of forwards) f.stop();
  }
  const ok = writeReport({ installedByThisRun: installed, installSeconds });
  if (installed && settings.DASHBOARD_E2E_KEEP !== '1') await removeRelease();
  log(`done in ${Math.round((Date.now() - t0) / 1000)} s`);
  return ok ? 0 : 1;
}

// `timeout` (make's bound) sends SIGTERM: stop the forwards and leave a report that says so.
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, () => {
    for (const f of forwards) f.stop();
    checks.push({ name: 'finished', passed: false, detail: `stopped by ${sig}`, seconds: 0 });
    writeReport();
    process.exit(1);
  });

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(String(err));
    process.exit(1);
  },
);
