import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { gaussianMatrix, joinSafetensors, safetensorsParts } from '../test-fixtures/builders/safetensors.ts';
import { cliOutput, expectGrid, root, tmp, waitForScan } from './helpers.ts';

test.describe('the page', () => {
  test('opens on the demo and shows its 16 × 7 heatmap within seconds, without a click', async ({ page }, info) => {
    const started = Date.now();
    await page.goto('/');
    await expect(page.getByRole('tab')).toHaveCount(4);
    const canvas = await expectGrid(page, 7, 16);
    await expect(canvas).toHaveAttribute('data-cells', '112');
    await expect(page.locator('.progress strong')).toHaveText(/Done|From the cache/);
    const seconds = (Date.now() - started) / 1000;
    info.annotations.push({ type: 'time to a full demo heatmap', description: `${seconds.toFixed(1)} s` });
    await expect(page.locator('[data-testid="engine-badge"]')).toHaveText(/(CPU|WebGPU) engine/);
    await page.screenshot({ path: info.outputPath('demo.png'), fullPage: true });
  });

  test('hover shows the tensor, click opens the matrix detail, arrow keys move between cells', async ({ page }, info) => {
    await page.goto('/');
    const canvas = await expectGrid(page, 7, 16);
    await waitForScan(page, 'phase0-base');
    const box = (await canvas.boundingBox())!;
    // layout: 132 px of row labels, 22 px of column labels, cells of ≤ 34 × 22 px
    await canvas.hover({ position: { x: 132 + 5, y: 22 + 11 } });
    await expect(page.getByRole('tooltip')).toContainText('model.layers.0.self_attn.q_proj.weight');
    await expect(page.getByRole('tooltip')).toContainText('128 × 128');
    await canvas.click({ position: { x: 132 + 5, y: 22 + 11 } });
    await expect(page.getByRole('region', { name: 'Matrix detail' })).toContainText('self_attn.q_proj · layer 0');
    await expect(page.getByRole('img', { name: /Singular values of model\.layers\.0\.self_attn\.q_proj\.weight/ })).toBeVisible();
    await canvas.focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect(page.getByRole('region', { name: 'Matrix detail' })).toContainText('self_attn.k_proj · layer 1');
    expect(box.width).toBeGreaterThan(300);
    await page.screenshot({ path: info.outputPath('detail.png'), fullPage: true });
  });

  test("downloads the same YAML bytes as the CLI's, for the same file and percent", async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    await page.getByLabel('Percent selected', { exact: true }).fill('20');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'YAML (20%)' }).click()]);
    expect(download.suggestedFilename()).toBe('snr_results_phase0-base_unfrozenparameters_20percent.yaml');
    const fromPage = readFileSync(await download.path(), 'utf8');
    const fromCli = await cliOutput(
      ['scan', 'public/demo/phase0-base.safetensors', '--percent', '20'],
      'snr_results_phase0-base_unfrozenparameters_20percent.yaml',
    );
    expect(fromPage).toBe(fromCli);
    // and both are Spectrum's own file for this checkpoint (its name aside)
    expect(fromPage).toBe(
      readFileSync(
        join(
          root,
          'test-fixtures/expected/demo-phases/spectrum-phase0-base/snr_results_spectral-workbench-demo-phase0-base_unfrozenparameters_20percent.yaml',
        ),
        'utf8',
      ),
    );
  });

  test('a picked file is scanned and its heatmap appears', async ({ page }, info) => {
    await page.goto('/');
    await page.getByTestId('file-input').setInputFiles(join(root, 'test-fixtures/reference/reference-model.safetensors'));
    await expect(page.getByRole('tab', { name: /reference-model/ })).toHaveAttribute('aria-selected', 'true');
    await expectGrid(page, 7, 3);
    await expect(page.locator('.progress strong')).toHaveText(/Done|From the cache/);
    await page.screenshot({ path: info.outputPath('reference.png'), fullPage: true });
  });

  test('a corrupt file shows its errors, and its good tensors still show', async ({ page }, info) => {
    const { header, data } = safetensorsParts([
      { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'F32', shape: [24, 16], values: gaussianMatrix(24, 16, 1) },
      { name: 'model.layers.0.mlp.down_proj.weight', dtype: 'F32', shape: [16, 24], values: gaussianMatrix(16, 24, 2) },
      { name: 'model.layers.1.mlp.up_proj.weight', dtype: 'F32', shape: [24, 16], values: gaussianMatrix(24, 16, 3) },
      { name: 'model.layers.1.mlp.down_proj.weight', dtype: 'F32', shape: [16, 24], values: gaussianMatrix(16, 24, 4) },
    ]);
    (header['model.layers.0.mlp.down_proj.weight'] as { dtype: string }).dtype = 'F4_MAGIC';
    (header['model.layers.1.mlp.up_proj.weight'] as { data_offsets: number[] }).data_offsets = [3072, 1_000_000];
    const path = join(tmp(), 'corrupt.safetensors');
    writeFileSync(path, joinSafetensors(header, data));
    await page.goto('/');
    await page.getByTestId('file-input').setInputFiles(path);
    await expect(page.getByRole('tab', { name: /corrupt/ })).toHaveAttribute('aria-selected', 'true');
    const problems = page.getByRole('region', { name: 'Problems and skipped tensors' });
    await expect(problems).toContainText('corrupt.safetensors: tensor "model.layers.0.mlp.down_proj.weight": unknown dtype "F4_MAGIC"');
    await expect(problems).toContainText(
      'corrupt.safetensors: tensor "model.layers.1.mlp.up_proj.weight": data_offsets [3072, 1000000] reach beyond the end',
    );
    await expect(page.locator('.progress')).toContainText('2 / 2 matrices');
    await expectGrid(page, 2, 2);
    await page.screenshot({ path: info.outputPath('corrupt.png'), fullPage: true });
  });

  test('makes no request to another origin, and its Content-Security-Policy is in force', async ({ page }) => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto('/');
    await waitForScan(page, 'phase3-15pct'); // the last demo checkpoint: everything is loaded
    const origin = new URL(page.url()).origin;
    expect(requests.filter((u) => !u.startsWith(origin) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    const afterLoad = requests.length;
    await page.getByRole('tab', { name: /phase0/ }).click();
    await page.locator('.checkpoint-view canvas[role="grid"]').click({ position: { x: 140, y: 30 } });
    await page.getByLabel('Percent selected', { exact: true }).fill('15');
    // the interactions took effect: a matrix detail with its charts, and the selection at the new percent
    await expect(page.getByRole('region', { name: 'Matrix detail' })).toContainText('self_attn.q_proj · layer 0');
    await expect(page.getByRole('img', { name: /Singular values of model\.layers\.0\.self_attn\.q_proj\.weight/ })).toBeVisible();
    await expect(page.getByRole('button', { name: 'YAML (15%)' })).toBeVisible();
    // A request of our own, made after them: every request the page made before it has reached the listener once it has.
    const marker = `${origin}/?marker`;
    await Promise.all([page.waitForRequest(marker), page.evaluate((url) => fetch(url).then(() => undefined), marker)]);
    expect(requests.slice(afterLoad), 'requests after load').toEqual([marker]);
    // A connection to another origin is refused by the CSP, not just absent.
    const blocked = await page.evaluate(async () => {
      const violation = new Promise<string>((resolve) =>
        document.addEventListener('securitypolicyviolation', (e) => resolve(e.violatedDirective), { once: true }),
      );
      await fetch('https://example.com/telemetry').catch(() => undefined);
      return violation;
    });
    expect(blocked).toBe('connect-src');
  });

  test('a reload keeps a finished scan (IndexedDB cache)', async ({ page }) => {
    await page.goto('/');
    await waitForScan(page, 'phase0-base');
    await page.reload();
    await expect(page.locator('.progress strong')).toHaveText('From the cache (scanned before)');
    await expectGrid(page, 7, 16);
  });
});
