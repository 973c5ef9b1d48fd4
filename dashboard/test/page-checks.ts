// Browser-side checks shared by the test-bed browser test and `make dashboard-e2e`.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const require = createRequire(import.meta.url);

/** The Chromium flags of every run: Debian's binary, no sandbox (root in CI), nothing phoned home. */
export const CHROMIUM = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
};

export interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's serious and critical violations on the page (the page needs bypassCSP for the injection). */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({
    content: readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'),
  });
  const all = await page.evaluate(async () => {
    const w = window as unknown as {
      axe: { run: (ctx: Document) => Promise<{ violations: Violation[] }> };
    };
    return (await w.axe.run(document)).violations;
  });
  return all
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

/** Whether a chart panel draws at least one non-empty line or area path. */
export async function drawn(page: Page, testId: string): Promise<boolean> {
  return page
    .locator(`[data-testid="${testId}"] path.recharts-curve`)
    .evaluateAll((paths) => paths.some((p) => (p.getAttribute('d') ?? '').length > 10));
}

/** Presses Tab until the focused control is labelled `label`; false if it never is. */
export async function tabTo(page: Page, label: string, maxTabs = 80): Promise<boolean> {
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      return el?.closest('label')?.querySelector('span')?.textContent ?? el?.textContent ?? '';
    });
    if (name === label) return true;
  }
  return false;
}
