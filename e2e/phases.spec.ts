import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

test.describe('multi-phase', () => {
  test("the demo's phase view shows four grids side by side, with the transitions", async ({ page }, info) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('button', { name: 'Phases' }).click();
    const grids = page.getByTestId('phase-grid');
    await expect(grids).toHaveCount(4);
    for (let i = 0; i < 4; i++) await expect(grids.nth(i).locator('canvas[role="grid"]')).toHaveAttribute('data-cells', '112');
    await expect(grids.nth(0)).toContainText('Phase 1 trains the top 25% of phase0-base');
    await expect(grids.nth(2)).toContainText('Phase 3 trains the top 15% of phase2-20pct');
    const t = page.getByRole('table', { name: 'Transition phase0-base → phase1-25pct' });
    await expect(t).toBeVisible();
    await expect(t.getByRole('row', { name: /^self_attn\.q_proj/ })).toBeVisible();
    // Reordering by keyboard moves a phase and updates the grids.
    await page.getByRole('button', { name: 'Move phase3-15pct up' }).click();
    await expect(grids.nth(2)).toContainText('phase3-15pct');
    await page.screenshot({ path: info.outputPath('phases.png'), fullPage: true });
  });

  test("imports Spectrum's own Qwen2.5-14B result: at 25% its down_proj selection has layers 1, 11, 15 and 35–38", async ({
    page,
  }, info) => {
    await page.goto('/');
    await page.getByTestId('file-input').setInputFiles(join(root, 'test-fixtures/spectrum-results/snr_results_Qwen-Qwen2.5-14B.json'));
    await expect(page.getByRole('tab', { name: /Qwen-Qwen2\.5-14B/ })).toHaveAttribute('aria-selected', 'true');
    const canvas = page.locator('.checkpoint-view canvas[role="grid"]');
    await expect(canvas).toHaveAttribute('data-cols', '48');
    await expect(canvas).toHaveAttribute('data-rows', '7');
    await page.getByLabel('Percent selected', { exact: true }).fill('25');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'YAML (25%)' }).click()]);
    const yaml = readFileSync(await download.path(), 'utf8');
    const section = yaml.split('# mlp.down_proj layers\n')[1].split('\n#')[0];
    const layers = [...section.matchAll(/model\.layers\.(\d+)\.mlp\.down_proj/g)].map((m) => Number(m[1]));
    expect(layers).toEqual(expect.arrayContaining([1, 11, 15, 35, 36, 37, 38]));
    expect(layers).toHaveLength(12);
    await page.screenshot({ path: info.outputPath('qwen14b.png'), fullPage: true });
  });

  test('saves a session as a file and in the browser, and reopens both after a reload', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('button', { name: 'Phases' }).click();
    await page.getByLabel('Percent for phase1-25pct').fill('30');
    await page.getByRole('button', { name: 'Session ▾' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as file' }).click()]);
    const path = await download.path();
    await page.getByRole('button', { name: 'Save in this browser' }).click();
    await expect(page.getByRole('status')).toContainText('Saved in this browser');

    await page.reload();
    await page.getByRole('button', { name: 'Session ▾' }).click();
    await page.getByTestId('session-input').setInputFiles(path);
    await expect(page.getByRole('status')).toContainText('Opened');
    // the view was the phase page: the plan comes back with its percents and its results
    const grids = page.getByTestId('phase-grid');
    await expect(grids).toHaveCount(4);
    await expect(grids.nth(1)).toContainText('Phase 2 trains the top 30% of phase1-25pct');
    await expect(grids.nth(3).locator('canvas[role="grid"]')).toHaveAttribute('data-cells', '112');

    await page.getByRole('button', { name: 'Session ▾' }).click();
    await page.getByRole('dialog', { name: 'Session' }).getByRole('button', { name: 'Open', exact: true }).first().click();
    await expect(grids).toHaveCount(4);
  });

  test('a session opened while the demo is still loading replaces it: no demo checkpoint arrives after it', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('button', { name: 'Phases' }).click();
    await page.getByRole('button', { name: 'Session ▾' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as file' }).click()]);
    const path = await download.path();

    // Hold the demo's last file until the session is open, then let it arrive.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    await page.route('**/demo/phase3-15pct.safetensors', async (route) => {
      await held;
      await route.continue();
    });
    // The page has the held file's bytes: from here its loader either adds the checkpoint or drops it, within
    // the same turn of the event loop, so the next look at the page sees which.
    await page.addInitScript(() => {
      const blob = Response.prototype.blob;
      Response.prototype.blob = function (this: Response) {
        const bytes = blob.call(this);
        if (this.url.endsWith('/demo/phase3-15pct.safetensors'))
          void bytes.then(
            () => Object.assign(window, { heldFileRead: true }),
            () => {},
          );
        return bytes;
      };
    });
    const lastFileAsked = page.waitForRequest('**/demo/phase3-15pct.safetensors');
    await page.reload();
    await lastFileAsked;
    await page.getByRole('button', { name: 'Session ▾' }).click();
    await page.getByTestId('session-input').setInputFiles(path);
    await expect(page.getByRole('status')).toContainText('Opened');
    release();
    await expect.poll(() => page.evaluate(() => 'heldFileRead' in window)).toBe(true);
    const grids = page.getByTestId('phase-grid');
    await expect(grids).toHaveCount(4);
    await expect(grids.nth(3).locator('canvas[role="grid"]')).toHaveAttribute('data-cells', '112');
    await page.getByRole('button', { name: 'Checkpoint', exact: true }).click();
    await expect(page.getByRole('tab')).toHaveCount(4);
  });
});
