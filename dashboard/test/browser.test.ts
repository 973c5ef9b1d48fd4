// The page in a real browser (Debian's Chromium through playwright-core) against the backend
// serving the freshly built page, with the test bed behind it: charts drawn from real series, the
// figures shown equal their sources, the launcher works from the keyboard, axe finds no serious
// violation, and screenshots at 1440×900 and 390×844 go to reports/.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM, drawn, seriousViolations, tabTo } from './page-checks.js';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start, type Dashboard } from '../src/main.js';
import {
  ADMIN_TOKEN,
  adminKubeConfig,
  buyInTwoWaves,
  env,
  http,
  rand,
  ReservationUnderTest,
  seedNamespace,
  waitFor,
} from './helpers.js';

const reports = fileURLToPath(new URL('../../reports/', import.meta.url));
const id = rand();
const ns = `dash-ui-${id}`;
const outDir = mkdtempSync(join(tmpdir(), 'dash-page-'));
let kc: KubeConfig;
let rsv: ReservationUnderTest;
let dash: Dashboard;
let base: string;
let browser: Browser;
let saleId = '';

beforeAll(async () => {
  // The page this test looks at is built from the sources now, not whatever dist/ holds.
  await build({
    configFile: fileURLToPath(new URL('../web/vite.config.ts', import.meta.url)),
    build: { outDir, emptyOutDir: true },
    logLevel: 'warn',
  });
  kc = adminKubeConfig();
  rsv = await new ReservationUnderTest().start();
  await seedNamespace(kc, ns);
  dash = await start(
    {
      PORT: 0,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      NAMESPACE: ns,
      KUBECONFIG: env('TESTBED_KUBECONFIG'),
      PROMETHEUS_URL: env('TESTBED_PROMETHEUS_URL'),
      PROMETHEUS_SELECTOR: `job="${rsv.job}"`,
      RESERVATION_URL: rsv.url,
      ADMIN_TOKEN,
      STATIC_DIR: outDir,
      STREAM_INTERVAL_MS: 1000,
    },
    {},
  );
  base = `http://127.0.0.1:${dash.port}`;
  // A sale that sold out, with traffic Prometheus has scraped, and one that opens in an hour.
  const sale = await http<{ id: string }>(`${base}/api/sales`, {
    body: { name: 'Sold-out concert', capacity: 4 },
    token: ADMIN_TOKEN,
  });
  saleId = sale.body.id;
  await buyInTwoWaves(
    rsv,
    saleId,
    Array.from({ length: 8 }, (_, i) => `fan-${i}`),
  );
  await http(`${base}/api/sales`, {
    body: {
      name: 'Evening show',
      capacity: 1200,
      saleStartsAt: new Date(Date.now() + 3_600_000).toISOString(),
    },
    token: ADMIN_TOKEN,
  });
  browser = await chromium.launch(CHROMIUM);
  mkdirSync(reports, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await dash?.stop();
  await rsv?.stop();
  await kc
    ?.makeApiClient(CoreV1Api)
    .deleteNamespace({ name: ns })
    .catch(() => undefined);
  rmSync(outDir, { recursive: true, force: true });
});

// Generous bounds: the build machines are shared, and Chromium renders slowly when they are busy.
describe('the page at 1440×900', { timeout: 300_000 }, () => {
  let page: Page;
  beforeAll(async () => {
    page = await browser.newPage({ viewport: { width: 1440, height: 900 }, bypassCSP: true });
    await page.goto(base);
  });
  // A live page keeps rendering: close it so the phone-sized one has the CPU to itself.
  afterAll(async () => {
    await page?.close();
  });

  it('when the system runs, then the charts show non-empty series', async () => {
    const charts = [
      'replicas',
      'chart-rps',
      'chart-acceptLatency',
      'chart-outcomes',
      'chart-cpu',
      'chart-memory',
    ];
    let missing: string[] = [];
    await waitFor(
      'drawn charts',
      async () => {
        const all = await Promise.all(charts.map((t) => drawn(page, t)));
        missing = charts.filter((_, i) => !all[i]);
        return missing.length ? undefined : true;
      },
      90_000,
    ).catch(async (err: unknown) => {
      await page.screenshot({
        path: join(reports, 'dashboard-failed.png'),
        fullPage: true,
        timeout: 120_000,
      });
      throw new Error(`${String(err)}: not drawn ${missing.join(', ')}`);
    });
  });

  it('then the replicas shown equal the API and the health strip is up', async () => {
    const d = await kc
      .makeApiClient(AppsV1Api)
      .readNamespacedDeployment({ name: 'reservation', namespace: ns });
    await waitFor('replicas equal to the API', async () =>
      (await page.getByTestId('replicas-desired').textContent()) === String(d.spec!.replicas)
        ? true
        : undefined,
    );
    expect(await page.getByTestId('deployment-reservation-desired').textContent()).toBe(
      String(d.spec!.replicas),
    );
    expect(await page.getByTestId('deployment-reservation-ready').textContent()).toBe(
      String(d.status?.readyReplicas ?? 0),
    );
    for (const name of ['kubernetes', 'prometheus', 'reservation', 'postgres', 'redis', 'nats'])
      expect(await page.getByTestId(`health-${name}`).getAttribute('data-state'), name).toBe('up');
  });

  it('then sold and remaining equal the audit, and the later sale counts down', async () => {
    const audit = await waitFor('a drained audit', async () => {
      const a = (
        await http<{ sold: number; capacity: number; pendingInQueue: number }>(
          `${rsv.url}/v1/events/${saleId}/audit`,
          {
            token: ADMIN_TOKEN,
          },
        )
      ).body;
      return a.pendingInQueue === 0 ? a : undefined;
    });
    await waitFor('inventory equal to the audit', async () =>
      (await page.getByTestId(`sale-${saleId}-sold`).textContent()) === String(audit.sold)
        ? true
        : undefined,
    );
    expect(await page.getByTestId(`sale-${saleId}-remaining`).textContent()).toBe(
      String(audit.capacity - audit.sold),
    );
    // The later sale opens an hour after it was made: the countdown shows between 50 and 60 minutes.
    const countdown = (await page.locator('.countdown').first().textContent()) ?? '';
    const minutes =
      /^opens in (\d+) m \d\d s$/.exec(countdown)?.[1] ??
      (countdown === 'opens in 1 h 00 m' ? '60' : '');
    expect(Number(minutes), countdown).toBeGreaterThanOrEqual(50);
  });

  it('then the Event appears in the feed', async () => {
    await waitFor('the Event in the feed', async () =>
      (await page.getByTestId('feed').textContent())?.includes('DashboardTest') ? true : undefined,
    );
  });

  it('when the launcher is used from the keyboard, then a k6 Job is created', async () => {
    // Start the Tab sequence at the launcher's heading; the skip link and the panels above are
    // reachable the same way, only slower to walk through.
    await page.locator('#launcher-title').click();
    expect(await tabTo(page, 'Admin token')).toBe(true);
    await page.keyboard.type(ADMIN_TOKEN);
    expect(await tabTo(page, 'Launch the rush')).toBe(true);
    await page.keyboard.press('Enter');
    const status = page.getByTestId('launcher').getByRole('status');
    await expect
      .poll(() => status.textContent(), { timeout: 15_000 })
      .toMatch(/Load test loadtest-\S+ launched/);
    const jobName = /(loadtest-\S+) launched/.exec((await status.textContent()) ?? '')![1]!;
    const job = await kc
      .makeApiClient(BatchV1Api)
      .readNamespacedJob({ name: jobName, namespace: ns });
    expect(job.spec!.template.spec!.containers[0]!.image).toBe('flashsale/k6:dev');
    await waitFor('the run in the list', async () =>
      (await page.getByTestId(`loadtest-${jobName}`).count()) > 0 ? true : undefined,
    );
  });

  it('then axe finds no serious violation, and a screenshot is saved', async () => {
    expect(await seriousViolations(page)).toEqual([]);
    // The first screen, as an operator opening the page sees it (the launcher test scrolled down).
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(reports, 'dashboard-1440x900.png'), timeout: 120_000 });
    await page.screenshot({
      path: join(reports, 'dashboard-1440x900-full.png'),
      fullPage: true,
      timeout: 120_000,
    });
  });
});

describe('the page at 390×844', { timeout: 300_000 }, () => {
  it('when on a phone, then nothing overflows sideways, axe is clean and a screenshot is saved', async () => {
    const page = await browser.newPage({
      viewport: { width: 390, height: 844 },
      bypassCSP: true,
    });
    await page.goto(base);
    await waitFor(
      'drawn charts',
      async () => ((await drawn(page, 'chart-rps')) ? true : undefined),
      60_000,
    );
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: join(reports, 'dashboard-390x844.png'), timeout: 120_000 });
    await page.screenshot({
      path: join(reports, 'dashboard-390x844-full.png'),
      fullPage: true,
      timeout: 120_000,
    });
  });
});
