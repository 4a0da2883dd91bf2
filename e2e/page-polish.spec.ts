import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { root } from './helpers.ts';

/** The file a button downloads: its suggested name and its text. */
async function downloaded(page: Page, button: Locator) {
  const [file] = await Promise.all([page.waitForEvent('download'), button.click()]);
  return { name: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

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
    // measured once the scan is done (the panels it adds move the legend), both boxes at the same moment
    await expect(page.locator('.progress strong')).toHaveText(/^(Done|From the cache)/, { timeout: 60_000 });
    const [itemBox, swatchBox] = await item.evaluate((el) =>
      [el, el.querySelector('.swatch.pending')!].map((e) => {
        const r = e.getBoundingClientRect();
        return { y: r.y, height: r.height };
      }),
    );
    // one line: the item is no taller than a line of 12 px text, and the swatch sits on it
    expect(itemBox.height).toBeLessThan(20);
    expect(swatchBox.y).toBeGreaterThanOrEqual(itemBox.y - 1);
    expect(swatchBox.y + swatchBox.height).toBeLessThanOrEqual(itemBox.y + itemBox.height + 1);
  });

  test('the drag overlay covers the page between the header and the footer: the footer stays readable under a dragged file', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page.locator('.checkpoint-view canvas[role="grid"]')).toHaveAttribute('data-cols', '16');
    // at the bottom of the page, the footer in view (scrolled again while the page still grows: records, the cache's line)
    const footer = page.locator('footer');
    await expect(async () => {
      await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
      await expect(footer).toBeInViewport({ timeout: 1000 });
    }).toPass();
    // a file dragged over the page, as the browser reports it: a dragenter carrying Files
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(['x'], 'model.safetensors'));
      window.dispatchEvent(new DragEvent('dragenter', { dataTransfer: data, bubbles: true }));
    });
    const overlay = page.locator('.drop-overlay');
    await expect(overlay).toBeVisible();
    const [o, f, h] = [await overlay.boundingBox(), await footer.boundingBox(), await page.locator('header.top').boundingBox()];
    expect(o!.y + o!.height).toBeLessThanOrEqual(f!.y);
    expect(o!.y).toBeGreaterThanOrEqual(h!.y + h!.height);
    // its message is in view wherever the page is scrolled
    await expect(overlay.getByText('Drop to analyse: nothing leaves this machine')).toBeInViewport();
    await page.evaluate(() => window.dispatchEvent(new DragEvent('dragleave', { bubbles: true })));
    await expect(overlay).toHaveCount(0);
  });

  test('the heatmap pictures are named after the checkpoint and what they show; a renamed tab downloads under a safe name', async ({
    page,
  }) => {
    await page.goto('/');
    await expect(page.locator('.checkpoint-view canvas[role="grid"]')).toHaveAttribute('data-cols', '16');
    const exports = page.getByRole('region', { name: 'Export' });
    const svg = exports.getByRole('button', { name: 'SVG', exact: true });
    const png = exports.getByRole('button', { name: 'PNG', exact: true });
    let file = await downloaded(page, svg);
    expect(file.name).toBe('heatmap_phase0-base_top25pct.svg');
    expect(file.text).toContain('phase0-base · top 25% by Spectrum SNR');
    await page.getByLabel('Metric', { exact: true }).check();
    await page.getByLabel('Metric to colour by').selectOption('alpha');
    file = await downloaded(page, svg);
    expect(file.name).toBe('heatmap_phase0-base_alpha.svg');
    expect(file.text).toContain('phase0-base · Power-law alpha');
    expect((await downloaded(page, png)).name).toBe('heatmap_phase0-base_alpha.png');
    await page.getByLabel('Metric to colour by').selectOption('stable_rank');
    expect((await downloaded(page, svg)).name).toBe('heatmap_phase0-base_stable_rank.svg');
    // the legacy Spectrum score is another number: its picture says so
    await page.getByLabel('Metric to colour by').selectOption('snr');
    await page.getByRole('toolbar', { name: 'Heatmap settings' }).getByRole('combobox').last().selectOption('legacy');
    expect((await downloaded(page, svg)).name).toBe('heatmap_phase0-base_snr_legacy.svg');

    // a name with spaces, a colon, quotes and a slash: every file name keeps only safe characters
    await page.getByRole('tab', { name: /phase0-base/ }).dblclick();
    await page.getByRole('textbox', { name: 'New name for phase0-base' }).fill('run 3: "final"/v2');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('tab', { name: /run 3/ })).toBeVisible();
    expect((await downloaded(page, svg)).name).toBe('heatmap_run-3-final-v2_snr_legacy.svg');
    expect((await downloaded(page, exports.getByRole('button', { name: 'metrics.json' }))).name).toBe('run-3-final-v2-metrics.json');
    expect((await downloaded(page, exports.getByRole('button', { name: 'CSV' }))).name).toBe('run-3-final-v2-metrics.csv');
    // Spectrum's own name (slashes and underscores to dashes, as spectrum.py), with the rest made safe
    expect((await downloaded(page, exports.getByRole('button', { name: /^YAML/ }))).name).toBe(
      'snr_results_run-3-final-v2_unfrozenparameters_25percent.yaml',
    );
  });

  test('the side-by-side phases picture is named after what it shows', async ({ page }) => {
    await page.goto('/');
    await page.getByRole('button', { name: 'Phases' }).click();
    await expect(page.getByTestId('phase-grid')).toHaveCount(4);
    const svg = page.getByRole('button', { name: 'Side by side (SVG)' });
    expect((await downloaded(page, svg)).name).toBe('phases_selection.svg');
    await page.getByLabel('Metric', { exact: true }).check();
    await page.getByLabel('Metric to colour by').selectOption('alpha');
    const file = await downloaded(page, svg);
    expect(file.name).toBe('phases_alpha.svg');
    expect(file.text).toContain('Phase 1 trains the top 25% of phase0-base');
    expect((await downloaded(page, page.getByRole('button', { name: 'Side by side (PNG)' }))).name).toBe('phases_alpha.png');
  });
});
