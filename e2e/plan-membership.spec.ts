import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { root, waitForScan } from './helpers.ts';

const results = (model: string) => join(root, `test-fixtures/spectrum-results/snr_results_${model}.json`);

test('the phase plan takes only checkpoints of its first one’s architecture; another model is added by hand, with a warning', async ({
  page,
}, info) => {
  await page.goto('/');
  await waitForScan(page, 'phase3-15pct');
  // two unrelated models: Qwen2.5-14B (48 layers) and SmolLM-135M (30 layers), as Spectrum's result files
  await page.getByTestId('file-input').setInputFiles([results('Qwen-Qwen2.5-14B'), results('HuggingFaceTB-SmolLM-135M')]);
  await expect(page.getByRole('tab', { name: /SmolLM-135M/ })).toBeVisible();
  await page.getByRole('button', { name: 'Phases' }).click();

  // the demo's four phases keep their own 16 columns: the 48 layers of Qwen do not pad them
  const grids = page.getByTestId('phase-grid');
  await expect(grids).toHaveCount(4);
  for (let i = 0; i < 4; i++) await expect(grids.nth(i).locator('canvas[role="grid"]')).toHaveAttribute('data-cols', '16');
  const others = page.getByRole('group', { name: 'Not in the plan: another architecture' });
  await expect(others).toContainText('Qwen-Qwen2.5-14B');
  await expect(others).toContainText('HuggingFaceTB-SmolLM-135M');
  await page.screenshot({ path: info.outputPath('plan-others.png'), fullPage: true });

  // added by hand, it joins the plan with its difference said, and the grids take its 48 layers
  await page.getByRole('button', { name: 'Add Qwen-Qwen2.5-14B to the plan' }).click();
  await expect(grids).toHaveCount(5);
  await expect(grids.nth(0).locator('canvas[role="grid"]')).toHaveAttribute('data-cols', '48');
  const plan = page.getByRole('region', { name: 'Phase plan' });
  await expect(plan.getByRole('note')).toContainText('another architecture than phase0-base');
  await expect(others).not.toContainText('Qwen-Qwen2.5-14B');
  await expect(others).toContainText('HuggingFaceTB-SmolLM-135M');
  await page.screenshot({ path: info.outputPath('plan-added.png'), fullPage: true });
});
