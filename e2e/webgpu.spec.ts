import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

// The WebGPU engine in the page's workers, on Chromium's SwiftShader (a software GPU: slow, so one
// test scans the whole demo, ≈ 2 minutes). `?engine=webgpu` takes a software adapter, which the
// default `auto` turns down for the faster CPU engine.
test.describe('the page on the WebGPU engine', () => {
  test('scans the whole demo on WebGPU and downloads Spectrum’s own YAML for every phase and percent', async ({ page }, info) => {
    test.setTimeout(600_000);
    const started = Date.now();
    await page.goto('/?engine=webgpu');
    const badge = page.locator('[data-testid="engine-badge"]');
    await expect(badge).toHaveText('WebGPU engine', { timeout: 120_000 });
    await expect(badge).toHaveAttribute('title', /WebGPU engine \(.+\)/);
    for (const phase of ['phase0-base', 'phase1-25pct', 'phase2-20pct', 'phase3-15pct']) {
      await page.getByRole('tab', { name: new RegExp(phase) }).click();
      await expect(page.locator('.progress strong')).toHaveText(/^Done/, { timeout: 480_000 });
      await waitForScan(page, phase);
      for (const percent of [25, 20, 15]) {
        await page.getByLabel('Percent selected', { exact: true }).fill(String(percent));
        const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: `YAML (${percent}%)` }).click()]);
        const fromPage = readFileSync(await download.path(), 'utf8');
        const spectrum = join(root, `test-fixtures/expected/demo-phases/spectrum-${phase}/snr_results_spectral-workbench-demo-${phase}_unfrozenparameters_${percent}percent.yaml`);
        expect(fromPage, `${phase} at ${percent} %`).toBe(readFileSync(spectrum, 'utf8'));
      }
    }
    await expect(badge).toHaveText('WebGPU engine');
    info.annotations.push({ type: 'whole demo on WebGPU (SwiftShader)', description: `${((Date.now() - started) / 1000).toFixed(0)} s` });
  });

  test('auto turns a software adapter down for the CPU engine, and says why', async ({ page }) => {
    await page.goto('/');
    const badge = page.locator('[data-testid="engine-badge"]');
    await waitForScan(page, 'phase0-base');
    // On a machine with a GPU this is the WebGPU engine; on CI's SwiftShader, the CPU with the reason.
    const title = (await badge.getAttribute('title')) ?? '';
    if (/software/.test(title)) await expect(badge).toHaveText('CPU engine');
    else await expect(badge).toHaveText(/(CPU|WebGPU) engine/);
  });
});
