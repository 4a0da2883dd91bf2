import { expect, test, type Page } from '@playwright/test';
import { expectGrid, waitForScan } from './helpers.ts';

/** Wait until the four demo checkpoints are scanned (or read from the cache). */
async function demoDone(page: Page) {
  await expect(page.getByRole('tab')).toHaveCount(4);
  for (const phase of ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct']) {
    await expect(page.getByRole('tab', { name: new RegExp(phase) })).toContainText('matrices', { timeout: 60_000 });
  }
}

test('hovering over the heatmap shows tips without redrawing the grid', async ({ page }) => {
  // Count the grid canvas's redraws: each starts by setting the device-pixel transform.
  await page.addInitScript(() => {
    const counted = window as unknown as { gridDraws: number };
    counted.gridDraws = 0;
    const setTransform = CanvasRenderingContext2D.prototype.setTransform;
    CanvasRenderingContext2D.prototype.setTransform = function (this: CanvasRenderingContext2D, ...args: unknown[]) {
      if (this.canvas.getAttribute('role') === 'grid') counted.gridDraws++;
      return (setTransform as (...a: unknown[]) => void).apply(this, args);
    } as typeof setTransform;
  });
  await page.goto('/');
  await demoDone(page);
  await waitForScan(page, 'phase0-base');
  const canvas = await expectGrid(page, 7, 16);
  const before = await page.evaluate(() => (window as unknown as { gridDraws: number }).gridDraws);
  expect(before).toBeGreaterThan(0);
  for (let col = 0; col < 10; col++) {
    await canvas.hover({ position: { x: 132 + 5 + col * 20, y: 22 + 11 } });
    await expect(page.getByRole('tooltip')).toContainText(`model.layers.`);
  }
  const after = await page.evaluate(() => (window as unknown as { gridDraws: number }).gridDraws);
  expect(after - before).toBe(0);
});

test('closing a tab removes its checkpoint from the page and the plan; Delete on a tab closes it too', async ({ page }) => {
  await page.goto('/');
  await demoDone(page);
  await page.getByRole('tab', { name: /phase3-15pct/ }).click();
  await page.getByRole('button', { name: 'Close phase3-15pct' }).click();
  await expect(page.getByRole('tab')).toHaveCount(3);
  await expect(page.getByRole('tab', { name: /phase3-15pct/ })).toHaveCount(0);
  // the tab beside it is shown in its place
  await expect(page.getByRole('tab', { name: /phase2-20pct/ })).toHaveAttribute('aria-selected', 'true');
  await expectGrid(page, 7, 16);
  await page.getByRole('tab', { name: /phase0-base/ }).focus();
  await page.keyboard.press('Delete');
  await expect(page.getByRole('tab')).toHaveCount(2);
  await page.getByRole('button', { name: 'Phases' }).click();
  await expect(page.locator('.phases-page canvas[role="grid"]')).toHaveCount(2);
});

test('the footer says what the scan cache holds, and Clear cached scans empties it: a reload computes again', async ({ page }) => {
  await page.goto('/');
  await demoDone(page);
  const control = page.getByTestId('cache-control');
  // the counts are refreshed as each scan ends
  await expect(control).toContainText('Cached scans: 4 checkpoints');
  await expect(control).toContainText(/used by this page/);
  await control.getByRole('button', { name: 'Clear cached scans' }).click();
  await expect(control).toContainText('Cached scans: 0 checkpoints');
  await expect(control.getByRole('button', { name: 'Clear cached scans' })).toBeDisabled();
  await page.reload();
  await waitForScan(page, 'phase0-base');
  await expect(page.locator('.progress strong')).toHaveText('Done'); // computed, not "From the cache"
});

test('a browser that refuses IndexedDB: the page says scans are not cached, and scans all the same', async ({ page }) => {
  await page.addInitScript(() => {
    Object.defineProperty(window, 'indexedDB', {
      configurable: true,
      value: {
        open() {
          throw new DOMException('The user denied permission to access the database.', 'SecurityError');
        },
      },
    });
  });
  await page.goto('/');
  await demoDone(page);
  await expect(page.getByRole('status').filter({ hasText: 'Finished matrices are not cached' })).toContainText('denied permission');
  await waitForScan(page, 'phase3-15pct');
  await expectGrid(page, 7, 16);
});
