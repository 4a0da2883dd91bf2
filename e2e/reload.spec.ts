import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

/**
 * The whole workspace survives a reload and opens in a new tab of the same browser: a checkpoint
 * opened from a file (its heatmap from the scan cache, and what re-opening the file would add),
 * the metric and percent shown, and the ΔW result.
 */
const FILE = join(root, 'test-fixtures/reference/reference-model.safetensors');
const grid = (page: Page) => page.locator('.checkpoint-view canvas[role="grid"]');
const deltaGrid = (page: Page) => page.getByRole('region', { name: 'ΔW heatmap' }).locator('canvas[role="grid"]');

/** What a restored page must show, whichever tab of the browser it is in. */
async function expectRestored(page: Page, cells: string, deltaCells: string, changed: string) {
  await expect(page.getByRole('tab')).toHaveCount(5);
  const tab = page.getByRole('tab', { name: /reference-model/ });
  await expect(tab).toHaveAttribute('aria-selected', 'true');
  await expect(grid(page)).toHaveAttribute('data-cells', cells);
  await expect(page.locator('.progress')).toContainText(/(\d+) \/ \1 matrices/);
  await expect(page.getByLabel('Metric to colour by')).toHaveValue('alpha');
  await expect(page.getByLabel('Percent selected', { exact: true })).toHaveValue('15');
  // no handle in a page whose file came through an <input>: the tab says what the file would give
  await expect(page.getByTestId('reopen-banner')).toContainText(
    'Restored from your last visit without its files. Re-open reference-model.safetensors to compare it with another checkpoint in ΔW',
  );
  await page.getByRole('button', { name: 'ΔW' }).click();
  await expect(deltaGrid(page)).toHaveAttribute('data-cells', deltaCells);
  await expect(page.getByRole('table', { name: 'Changed layers per module type' })).toHaveText(changed);
  await expect(page.getByRole('region', { name: 'ΔW heatmap' }).getByRole('heading')).toHaveText('ΔW phase1-25pct − phase0-base');
  await page.getByRole('button', { name: 'Checkpoint' }).click();
}

test('a reload, and a new tab, bring back the opened checkpoint with its heatmap, the metric, the percent and the ΔW result', async ({
  page,
  context,
}, info) => {
  test.setTimeout(180_000);
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByRole('button', { name: 'ΔW' }).click();
  await page.getByRole('button', { name: 'Compute ΔW' }).click();
  await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });
  const deltaCells = (await deltaGrid(page).getAttribute('data-cells'))!;
  const changed = (await page.getByRole('table', { name: 'Changed layers per module type' }).textContent())!;
  expect(Number(deltaCells)).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'Checkpoint' }).click();
  await page.getByTestId('file-input').setInputFiles(FILE);
  await waitForScan(page, 'reference-model');
  const cells = (await grid(page).getAttribute('data-cells'))!;
  expect(Number(cells)).toBeGreaterThan(0);
  await page.getByLabel('Metric to colour by').selectOption('alpha');
  await page.getByLabel('Percent selected', { exact: true }).fill('15');
  await expect(page.getByLabel('Percent selected (slider)')).toHaveValue('15');
  // the workspace is saved a moment after each change; a reload right away may come before it
  await page.waitForTimeout(1000);

  await page.reload();
  await expectRestored(page, cells, deltaCells, changed);
  for (const [width, height] of [
    [1600, 1000],
    [800, 900],
  ]) {
    await page.setViewportSize({ width, height });
    await page.screenshot({ path: info.outputPath(`restored-${width}.png`), fullPage: true });
  }
  await page.setViewportSize({ width: 1400, height: 1000 });

  const again = await context.newPage();
  await again.goto('/');
  await expectRestored(again, cells, deltaCells, changed);
});

test('re-opening the file of a restored tab joins that tab (no second tab) and gives it its weights back', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  await page.getByTestId('file-input').setInputFiles(FILE);
  await waitForScan(page, 'reference-model');
  await page.waitForTimeout(1000);
  await page.reload();
  await expect(page.getByTestId('reopen-banner')).toBeVisible();
  await page.getByTestId('file-input').setInputFiles(FILE);
  // a tab opens for the file, and gives way to the restored one once its headers say it is the same checkpoint
  await expect
    .poll(async () => ({
      tabs: await page.getByRole('tab').count(),
      active: await page.getByRole('tab', { selected: true }).getAttribute('title'),
      status: await page.locator('.progress strong').textContent(),
      banner: await page.getByTestId('reopen-banner').count(),
    }))
    .toEqual({
      tabs: 5,
      active: 'reference-model (double-click or F2 to rename)',
      status: expect.stringMatching(/^(Done|From the cache)/),
      banner: 0,
    });
  // every matrix came from the cache: none was computed again
  await expect(page.locator('.progress')).toContainText(/resumed: 0 left to compute|^From the cache/);
});
