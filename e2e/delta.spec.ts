import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

const log = JSON.parse(readFileSync(join(root, 'public/demo/training_log.json'), 'utf8')) as {
  phase1: { selected: Record<string, number[]> };
};

test.describe('the ΔW view', () => {
  test("phase 1 − base marks as changed exactly the layers the demo's training log lists for phase 1", async ({ page }, info) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('button', { name: 'ΔW' }).click();
    // the default pair: the plan's first two checkpoints
    await expect(page.getByLabel('Earlier checkpoint')).toHaveValue(
      (await page.getByLabel('Earlier checkpoint').locator('option', { hasText: 'phase0-base' }).getAttribute('value')) as string,
    );
    await expect(page.getByLabel('Later checkpoint').locator('option:checked')).toHaveText('phase1-25pct');
    const started = Date.now();
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });
    info.annotations.push({
      type: 'ΔW phase 1 − base (147 matrices), click to done',
      description: `${((Date.now() - started) / 1000).toFixed(1)} s`,
    });

    const canvas = page.getByRole('region', { name: 'ΔW heatmap' }).locator('canvas[role="grid"]');
    await expect(canvas).toHaveAttribute('data-cells', '112');
    const table = page.getByRole('table', { name: 'Changed layers per module type' });
    for (const [module, layers] of Object.entries(log.phase1.selected)) {
      await expect(table.locator(`[data-module="${module}"]`), module).toHaveText(layers.join(', '));
    }
    // every other cell of the 16 layers is unchanged, none is pending or failed
    const unchanged = await table.locator('tbody tr td:last-child').allTextContents();
    expect(unchanged.map(Number)).toEqual(Object.values(log.phase1.selected).map((l) => 16 - l.length));
    await expect(page.getByLabel('Legend')).toContainText('unchanged (ΔW = 0)');

    // keyboard: the first cell (q_proj, layer 0: trained) opens its ΔW detail with the per-head chart
    await canvas.focus();
    await page.keyboard.press('Home'); // the focus put the cursor on the first cell: Home shows its tip
    await expect(page.getByRole('tooltip')).toContainText('‖ΔW‖/‖W‖');
    await page.keyboard.press('Enter');
    const detail = page.getByRole('region', { name: 'Matrix detail' });
    await expect(detail).toContainText('ΔW · self_attn.q_proj · layer 0');
    await expect(detail.getByRole('img', { name: /Share of the change carried by each of 4 heads \(row blocks\)/ })).toBeVisible();
    await expect(detail.getByRole('img', { name: /Singular values of model\.layers\.0\.self_attn\.q_proj\.weight/ })).toBeVisible();
    await expect(detail).toContainText('keep 90% of the energy');
    // an untouched cell (q_proj, layer 1) says so
    await canvas.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await expect(detail).toContainText('unchanged: exactly zero');
    await page.getByLabel('ΔW metric').selectOption('head_max');
    await expect(page.getByLabel('Legend')).toContainText('Largest head share');
    await page.screenshot({ path: info.outputPath('delta.png'), fullPage: true });
  });

  test('a ΔW asked for while the demo still scans waits for it, and can be cancelled before it starts', async ({ page }) => {
    await page.goto('/');
    await expect(page.getByRole('tab')).toHaveCount(4);
    await page.getByRole('button', { name: 'ΔW' }).click();
    await page.getByLabel('Earlier checkpoint').selectOption({ label: 'phase2-20pct' });
    await expect(page.getByLabel('Later checkpoint').locator('option:checked')).toHaveText('phase3-15pct');
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    const status = page.getByTestId('delta-progress').locator('strong');
    await expect(status).toHaveText('Waiting for the scans in progress');
    await page.getByTestId('delta-progress').getByRole('button', { name: 'Cancel' }).click();
    await expect(status).toHaveText(/^Cancelled/);
    // asked again, it runs once the scans are done: phase 3 − phase 2 is what phase 3 trained, and what phase 2 trained that phase 3 did not touch is unchanged
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    await expect(status).toHaveText('Done', { timeout: 60_000 });
    const table = page.getByRole('table', { name: 'Changed layers per module type' });
    const phase3 = (
      JSON.parse(readFileSync(join(root, 'public/demo/training_log.json'), 'utf8')) as { phase3: { selected: Record<string, number[]> } }
    ).phase3.selected;
    for (const [module, layers] of Object.entries(phase3))
      await expect(table.locator(`[data-module="${module}"]`), module).toHaveText(layers.join(', '));
  });

  test('a saved session carries the ΔW result: opened after a reload, the ΔW page shows it without computing', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct');
    await page.getByRole('button', { name: 'ΔW' }).click();
    await page.getByRole('button', { name: 'Compute ΔW' }).click();
    await expect(page.getByTestId('delta-progress').locator('strong')).toHaveText('Done', { timeout: 60_000 });
    await page.getByRole('button', { name: 'Session ▾' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Save as file' }).click()]);
    const path = await download.path();
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { delta?: { records: { name: string }[] } | null };
    expect(saved.delta?.records.length).toBe(147);

    // a fresh browser profile: no workspace, no cache to bring the result back
    await page.evaluate(
      () =>
        new Promise((done) => {
          const request = indexedDB.deleteDatabase('spectral-workbench');
          request.onsuccess = request.onerror = request.onblocked = () => done(null);
        }),
    );
    await page.reload();
    await page.getByRole('button', { name: 'Session ▾' }).click();
    await page.getByTestId('session-input').setInputFiles(path);
    await expect(page.getByRole('status')).toContainText('Opened');
    // the session was saved on the ΔW page: it opens there
    await expect(page.getByRole('button', { name: 'ΔW', exact: true })).toHaveAttribute('aria-pressed', 'true');
    const table = page.getByRole('table', { name: 'Changed layers per module type' });
    for (const [module, layers] of Object.entries(log.phase1.selected)) {
      await expect(table.locator(`[data-module="${module}"]`), module).toHaveText(layers.join(', '));
    }
  });
});
