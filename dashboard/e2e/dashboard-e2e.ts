// make dashboard-e2e: the dashboard of the system installed by the Helm chart on the host cluster
// (namespace flashsale, shared with `make e2e`), opened in Debian's headless Chromium through
// kubectl port-forward. Checks, each written to reports/dashboard-e2e.json as passed true/false:
//   chartsNonEmpty       the replicas, RPS, latency and outcome charts draw series
//   replicasEqualApi     the replica counts shown equal the reservation Deployment's
//   eventInFeed          the namespace's newest Event appears in the feed
//   inventoryEqualsAudit sold/remaining shown equal the audit of the sale under load
//   launcherStartsJob    the launcher (used from the keyboard) creates a k6 Job
//   loadTestSummary      that Job finishes and its summary appears on the page
//   accessibility        axe-core finds no serious or critical violation at either size
//   screenshots          reports/dashboard-e2e-1440x900.png and -390x844.png written
// Exits non-zero when any check failed. Bounded: every wait has a timeout, the k6 run is small.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, BatchV1Api, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { z } from 'zod';
import { CHROMIUM, drawn, seriousViolations, tabTo } from '../test/page-checks.js';
import { PortForward } from './port-forward.js';

// The script's own settings (it is a test tool, not a deployable: its settings are read here).
// The defaults are the names the Helm chart gives release `flashsale` (charts/flashsale).
const settings = z
  .object({
    KUBECONFIG: z.string().min(1),
    KUBECTL: z.string().default('kubectl'),
    NAMESPACE: z.string().default('flashsale'),
    DASHBOARD_SERVICE: z.string().default('flashsale-dashboard'),
    DASHBOARD_PORT: z.coerce.number().int().default(80),
    RESERVATION_SERVICE: z.string().default('flashsale-reservation'),
    RESERVATION_PORT: z.coerce.number().int().default(80),
    RESERVATION_DEPLOYMENT: z.string().default('flashsale-reservation'),
    ADMIN_SECRET: z.string().default('flashsale-admin'),
    ADMIN_SECRET_KEY: z.string().default('admin-token'),
    LOAD_VUS: z.coerce.number().int().min(1).max(500).default(50),
    LOAD_SECONDS: z.coerce.number().int().min(5).max(120).default(30),
    WAIT_SECONDS: z.coerce.number().int().min(10).max(900).default(240),
  })
  .parse(process.env);

const reports = fileURLToPath(new URL('../../reports/', import.meta.url));
const t0 = Date.now();
const log = (line: string) =>
  process.stderr.write(
    `[${String(Math.round((Date.now() - t0) / 1000)).padStart(4)}s] dashboard-e2e ${line}\n`,
  );

interface Check {
  name: string;
  passed: boolean;
  detail: string;
}
const checks: Check[] = [];
async function check(name: string, f: () => Promise<string>): Promise<void> {
  log(`${name}...`);
  try {
    const detail = await f();
    checks.push({ name, passed: true, detail });
    log(`${name}: passed (${detail})`);
  } catch (err) {
    checks.push({ name, passed: false, detail: err instanceof Error ? err.message : String(err) });
    log(`${name}: FAILED ${String(err)}`);
  }
}

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
  throw new Error(`no ${what} within ${seconds} s${last ? ` (${String(last)})` : ''}`);
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

async function main(): Promise<number> {
  mkdirSync(reports, { recursive: true });
  const kc = new KubeConfig();
  kc.loadFromFile(settings.KUBECONFIG);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const ns = settings.NAMESPACE;
  const forwards: PortForward[] = [];
  let browser: Browser | undefined;
  try {
    const secret = await core.readNamespacedSecret({ name: settings.ADMIN_SECRET, namespace: ns });
    const token = Buffer.from(secret.data?.[settings.ADMIN_SECRET_KEY] ?? '', 'base64').toString();
    if (!token)
      throw new Error(`secret ${settings.ADMIN_SECRET} has no ${settings.ADMIN_SECRET_KEY}`);
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
    const dash = await pf(settings.DASHBOARD_SERVICE, settings.DASHBOARD_PORT);
    const rsv = await pf(settings.RESERVATION_SERVICE, settings.RESERVATION_PORT);
    log(`dashboard on ${dash}, reservation on ${rsv}`);
    const sale = await json<{ id: string; name: string }>(`${dash}/api/sales`, {
      body: { name: `e2e rush ${new Date().toISOString().slice(11, 19)}`, capacity: 200 },
      token,
    });
    browser = await chromium.launch(CHROMIUM);
    const page: Page = await browser.newPage({
      viewport: { width: 1440, height: 900 },
      bypassCSP: true,
    });
    await page.goto(dash);
    await page.getByTestId('inventory').waitFor();

    let jobName = '';
    await check('launcherStartsJob', async () => {
      if (!(await tabTo(page, 'Admin token')))
        throw new Error('the token field is not reachable with Tab');
      await page.keyboard.type(token);
      await until('the sale in the launcher', async () =>
        (await page.locator(`select option[value="${sale.id}"]`).count()) > 0 ? true : undefined,
      );
      await page.getByLabel('Sale').selectOption(sale.id);
      await page.getByLabel('Virtual users').fill(String(settings.LOAD_VUS));
      await page.getByLabel('Duration (seconds)').fill(String(settings.LOAD_SECONDS));
      await page.getByRole('button', { name: 'Launch the rush' }).focus();
      await page.keyboard.press('Enter');
      const text = await until(
        'a launch confirmation',
        async () => {
          const t = await page.getByTestId('launcher').getByRole('status').textContent();
          return t && /launched/.test(t) ? t : undefined;
        },
        30,
      );
      jobName = /(loadtest-\S+) launched/.exec(text)?.[1] ?? '';
      const job = await kc
        .makeApiClient(BatchV1Api)
        .readNamespacedJob({ name: jobName, namespace: ns });
      return `${jobName} (${job.spec?.template.spec?.containers[0]?.image ?? '?'})`;
    });

    await check('chartsNonEmpty', async () => {
      const charts = ['replicas', 'chart-rps', 'chart-acceptLatency', 'chart-outcomes'];
      await until('drawn charts', async () =>
        (await Promise.all(charts.map((c) => drawn(page, c)))).every(Boolean) ? true : undefined,
      );
      return charts.join(', ');
    });

    await check('replicasEqualApi', async () =>
      until(
        'replicas equal to the API',
        async () => {
          const d = await apps.readNamespacedDeployment({
            name: settings.RESERVATION_DEPLOYMENT,
            namespace: ns,
          });
          const want = `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`;
          const name = settings.RESERVATION_DEPLOYMENT;
          const shown = `${await page.getByTestId(`deployment-${name}-ready`).textContent()}/${await page.getByTestId(`deployment-${name}-desired`).textContent()}`;
          return shown === want ? `ready/desired ${shown}` : undefined;
        },
        60,
      ),
    );

    await check('eventInFeed', async () => {
      const events = await core.listNamespacedEvent({ namespace: ns });
      const newest = events.items
        .filter((e) => e.reason)
        .sort((a, b) =>
          String(b.lastTimestamp ?? b.eventTime ?? '').localeCompare(
            String(a.lastTimestamp ?? a.eventTime ?? ''),
          ),
        )[0];
      if (!newest) throw new Error('the namespace has no Event');
      const reason = newest.reason ?? '';
      return until(
        'the Event in the feed',
        async () =>
          (await page.getByTestId('feed').textContent())?.includes(reason) ? reason : undefined,
        30,
      );
    });

    await check('inventoryEqualsAudit', async () =>
      until('the inventory equal to the audit', async () => {
        const audit = await json<{ sold: number; capacity: number; pendingInQueue: number }>(
          `${rsv}/v1/events/${sale.id}/audit`,
          { token },
        );
        const sold = await page.getByTestId(`sale-${sale.id}-sold`).textContent();
        const remaining = await page.getByTestId(`sale-${sale.id}-remaining`).textContent();
        const fmt = (n: number) => new Intl.NumberFormat('en-US').format(n);
        return audit.sold > 0 &&
          sold === fmt(audit.sold) &&
          remaining === fmt(audit.capacity - audit.sold)
          ? `sold ${sold}, remaining ${remaining}`
          : undefined;
      }),
    );

    await check('loadTestSummary', async () => {
      if (!jobName) throw new Error('no Job was launched');
      return until(
        'the k6 summary on the page',
        async () =>
          (await page.getByTestId(`loadtest-${jobName}-summary`).textContent()) ?? undefined,
        settings.LOAD_SECONDS + settings.WAIT_SECONDS,
      );
    });

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
    ).catch(() => undefined);
    await check('accessibility', async () => {
      const found = [...(await seriousViolations(page)), ...(await seriousViolations(phone))];
      if (found.length) throw new Error(found.join('; '));
      return 'no serious violation at 1440×900 and 390×844';
    });
    await check('screenshots', async () => {
      await page.screenshot({ path: join(reports, 'dashboard-e2e-1440x900.png'), fullPage: true });
      await phone.screenshot({ path: join(reports, 'dashboard-e2e-390x844.png'), fullPage: true });
      return 'reports/dashboard-e2e-{1440x900,390x844}.png';
    });
  } catch (err) {
    checks.push({ name: 'setup', passed: false, detail: String(err) });
    log(`setup failed: ${String(err)}`);
  } finally {
    await browser?.close();
    for (const f of forwards) f.stop();
  }
  const ok = checks.length > 0 && checks.every((c) => c.passed);
  writeFileSync(
    join(reports, 'dashboard-e2e.json'),
    `${JSON.stringify({ ok, namespace: ns, seconds: Math.round((Date.now() - t0) / 1000), checks }, null, 2)}\n`,
  );
  log(
    `${checks.filter((c) => c.passed).length} passed, ${checks.filter((c) => !c.passed).length} failed; reports/dashboard-e2e.json`,
  );
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(String(err));
    process.exit(1);
  },
);
