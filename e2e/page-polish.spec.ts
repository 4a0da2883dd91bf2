import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { root } from './helpers.ts';

test.describe('page polish', () => {
  test("the Phases page titles say what each phase trains, and it offers no page percent (the plan's own percents apply)", async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page.getByLabel('Percent selected (slider)')).toBeVisible();
    await page.getByRole('button', { name: 'Phases' }).click();
    const grids = page.getByTestId('phase-grid');
    await expect(grids).toHaveCount(4);
    await expect(grids.nth(0).getByRole('heading')).toHaveText('Phase 1 trains the top 25% of phase0-base');
    await expect(grids.nth(1).getByRole('heading')).toHaveText('Phase 2 trains the top 20% of phase1-25pct');
    await expect(page.getByLabel('Percent selected (slider)')).toHaveCount(0);
    await expect(page.getByLabel('Percent selected', { exact: true })).toHaveCount(0);
    await page.getByRole('button', { name: 'Checkpoint', exact: true }).click();
    await expect(page.getByLabel('Percent selected (slider)')).toBeVisible();
  });

  test('the percent field refuses what is outside 1–100, says why, and keeps the last valid percent', async ({ page }) => {
    await page.goto('/');
    const field = page.getByLabel('Percent selected', { exact: true });
    const slider = page.getByLabel('Percent selected (slider)');
    await expect(slider).toHaveAttribute('min', '1');
    await expect(field).toHaveAttribute('min', '1');
    await field.fill('150');
    await expect(page.getByTestId('percent-refusal')).toHaveText('150: the percent is from 1 to 100');
    await expect(field).toHaveAttribute('aria-invalid', 'true');
    await expect(slider).toHaveValue('25');
    await expect(page.getByRole('button', { name: 'YAML (25%)' })).toBeVisible();
    await field.fill('');
    await expect(page.getByTestId('percent-refusal')).toHaveText('Enter a percent from 1 to 100');
    await expect(slider).toHaveValue('25');
    await field.fill('0');
    await expect(page.getByTestId('percent-refusal')).toHaveText('0: the percent is from 1 to 100');
    await expect(slider).toHaveValue('25');
    await field.fill('40');
    await expect(page.getByTestId('percent-refusal')).toHaveCount(0);
    await expect(slider).toHaveValue('40');
    await expect(page.getByRole('button', { name: 'YAML (40%)' })).toBeVisible();
    // leaving a refused value shows the percent in use again
    await field.fill('');
    await field.blur();
    await expect(field).toHaveValue('40');
    await expect(page.getByTestId('percent-refusal')).toHaveCount(0);
  });

  test("a module of Spectrum's result file shows its stored SNR, says what the file lacks, and the metrics it lacks are disabled", async ({
    page,
  }) => {
    const file = join(root, 'test-fixtures/spectrum-results/snr_results_Qwen-Qwen2.5-14B.json');
    // Spectrum's files hold bare Infinity (not JSON): read the one value by its key
    const stored = Number(/"model\.layers\.0\.self_attn\.q_proj":\s*\{\s*"snr":\s*([\d.eE+-]+)/.exec(readFileSync(file, 'utf8'))![1]);
    await page.goto('/');
    await page.getByTestId('file-input').setInputFiles(file);
    await expect(page.getByRole('tab', { name: /Qwen-Qwen2\.5-14B/ })).toHaveAttribute('aria-selected', 'true');
    const canvas = page.locator('.checkpoint-view canvas[role="grid"]');
    await expect(canvas).toHaveAttribute('data-cols', '48');
    await canvas.click({ position: { x: 132 + 5, y: 22 + 11 } });
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText('self_attn.q_proj · layer 0');
    // 6 significant digits, as the detail shows numbers
    await expect(detail).toContainText(`Spectrum SNR${Number(stored.toPrecision(6))} (stored in the file)`);
    await expect(detail).toContainText("Shapenot in Spectrum's result file");
    await expect(detail.getByTestId('imported-note')).toContainText('the shape, the singular values and the other metrics are not in it');
    await expect(detail).not.toContainText('(unknown)');
    await expect(detail).not.toContainText('0 ms');
    const metric = page.getByLabel('Metric to colour by');
    await expect(metric.locator('option', { hasText: 'Spectrum SNR' })).toBeEnabled();
    for (const label of ['Signal / noise', 'Spectral norm σ_max', 'Power-law alpha', 'Stable rank']) {
      const option = metric.locator('option', { hasText: label });
      await expect(option).toBeDisabled();
      await expect(option).toHaveAttribute('title', `${label}: not in Spectrum's result file, which stores only each module's SNR`);
    }
  });

  test('the legend keeps "not analysed yet" with its swatch on a narrow page', async ({ page }) => {
    await page.setViewportSize({ width: 800, height: 900 });
    await page.goto('/');
    const item = page.locator('.checkpoint-view .legend .legend-item', { hasText: 'not analysed yet' });
    await expect(item).toBeVisible();
    const swatch = item.locator('.swatch.pending');
    await expect(swatch).toBeVisible();
    const [itemBox, swatchBox] = [await item.boundingBox(), await swatch.boundingBox()];
    // one line: the item is no taller than a line of 12 px text, and the swatch sits on it
    expect(itemBox!.height).toBeLessThan(20);
    expect(swatchBox!.y).toBeGreaterThanOrEqual(itemBox!.y - 1);
    expect(swatchBox!.y + swatchBox!.height).toBeLessThanOrEqual(itemBox!.y + itemBox!.height + 1);
  });
});
